// A plaintext listener that serves HTTP/1.1 and HTTP/2 with prior knowledge (h2c, as gRPC
// clients speak it) on one port: a connection that opens with the HTTP/2 preface goes to the
// HTTP/2 server, anything else to the HTTP/1.1 server.
import type { Server as HttpServer } from 'node:http';
import type { Http2Server } from 'node:http2';
import { createServer, type Server, type Socket } from 'node:net';

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

/** Whether the first bytes of a connection are (the start of) the HTTP/2 preface. */
export function startsHttp2(first: Buffer): boolean {
  const length = Math.min(first.length, HTTP2_PREFACE.length);
  return length >= 3 && first.subarray(0, length).equals(HTTP2_PREFACE.subarray(0, length));
}

/**
 * Hands a plaintext connection whose first bytes are `first` (already unshifted) to the right
 * server. An HTTP/2 session reads the unshifted bytes itself; resuming the socket first would
 * hand them to nobody (the session then fails with a protocol error).
 */
export function dispatchPlaintext(socket: Socket, first: Buffer, servers: { http1: HttpServer; http2: Http2Server }): void {
  if (startsHttp2(first)) {
    servers.http2.emit('connection', socket);
    return;
  }
  servers.http1.emit('connection', socket);
  socket.resume();
}

/** Reads the first chunk of a connection, puts it back, and calls `next` with it. */
export function withFirstBytes(socket: Socket, next: (first: Buffer) => void, timeoutMs = 10_000): void {
  socket.setTimeout(timeoutMs, () => socket.destroy());
  socket.once('error', () => socket.destroy());
  socket.once('data', (first: Buffer) => {
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(first);
    next(first);
  });
}

export function createPlaintextListener(servers: { http1: HttpServer; http2: Http2Server }): Server {
  return createServer({ noDelay: true }, (socket) => withFirstBytes(socket, (first) => dispatchPlaintext(socket, first, servers)));
}
