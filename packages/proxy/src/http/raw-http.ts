// Raw HTTP/1.1 on sockets, for tunnels: the request head of an Upgrade replayed upstream, and
// the few responses a proxy writes on a socket it owns.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { RESPONSE_FLAGS_HEADER, type ProxyError } from '../errors.ts';

/** The request line and headers of `request` as received, minus `drop`, plus `add`. */
export function requestHead(request: IncomingMessage, path: string, drop: ReadonlySet<string>, add: Record<string, string> = {}): string {
  const lines = [`${request.method ?? 'GET'} ${path} HTTP/1.1`];
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (!drop.has((raw[i] as string).toLowerCase())) lines.push(`${raw[i] as string}: ${raw[i + 1] as string}`);
  }
  for (const [name, value] of Object.entries(add)) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Answers a tunnel request that cannot be served, and closes the socket. */
export function refuseTunnel(socket: Duplex, error: ProxyError): void {
  const body = `weft: ${error.message}\n`;
  socket.end(
    `HTTP/1.1 ${error.kind.status} Weft\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${RESPONSE_FLAGS_HEADER}: ${error.kind.flag}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Bytes that went through a splice, seen from its first socket. */
export interface SplicedBytes {
  /** From the first socket to the second. */
  readonly received: number;
  /** From the second socket to the first. */
  readonly sent: number;
}

/** Pipes two sockets into each other until either side closes; `done` runs once. */
export function splice(a: Duplex, b: Duplex, done: (bytes: SplicedBytes) => void): void {
  let finished = false;
  let received = 0;
  let sent = 0;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    a.destroy();
    b.destroy();
    done({ received, sent });
  };
  a.on('data', (chunk: Buffer) => (received += chunk.length));
  b.on('data', (chunk: Buffer) => (sent += chunk.length));
  a.on('error', finish);
  b.on('error', finish);
  a.once('close', finish);
  b.once('close', finish);
  a.pipe(b);
  b.pipe(a);
}
