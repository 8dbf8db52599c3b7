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

/** HTTP/1.x starts with a method token and a space. */
export function looksLikeHttp1(first: Buffer): boolean {
  return /^[A-Z]{3,10} /.test(first.subarray(0, 12).toString('latin1'));
}

export interface Silence {
  /** How long a quiet caller may stay quiet before `handle` is asked. */
  readonly afterMs: number;
  /** Takes a connection whose caller has not spoken (a server-first protocol); false if it cannot. */
  readonly handle: () => boolean;
}

/**
 * Reads the first chunk of a connection, puts it back, and calls `next` with it. A caller that
 * stays silent is offered to `silence` (server-first protocols must not wait for a client that
 * will never speak), and dropped after `timeoutMs` otherwise.
 */
export function withFirstBytes(socket: Socket, next: (first: Buffer) => void, silence?: Silence, timeoutMs = 10_000): void {
  const onData = (first: Buffer): void => {
    clearTimeout(quiet);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(first);
    next(first);
  };
  const quiet = silence
    ? setTimeout(() => {
        if (!silence.handle()) return;
        socket.off('data', onData);
        socket.setTimeout(0);
      }, silence.afterMs)
    : undefined;
  socket.setTimeout(timeoutMs, () => socket.destroy());
  socket.once('error', () => socket.destroy());
  socket.once('close', () => clearTimeout(quiet));
  socket.once('data', onData);
}

export function createPlaintextListener(servers: { http1: HttpServer; http2: Http2Server }): Server {
  return createServer({ noDelay: true }, (socket) => withFirstBytes(socket, (first) => dispatchPlaintext(socket, first, servers)));
}
