// The first line a sidecar sends before opaque TCP to a peer sidecar, naming the application
// port: "WEFT-TCP 9000\r\n". Over mTLS (ALPN weft-tcp) and over plaintext (PERMISSIVE), where
// its first bytes also tell it apart from HTTP.
const PREFIX = 'WEFT-TCP ';
const MAX_LINE = 32;

export function tcpPreface(port: number): string {
  return `${PREFIX}${port}\r\n`;
}

export function startsTcpPreface(first: Buffer): boolean {
  const length = Math.min(first.length, PREFIX.length);
  return length > 0 && first.subarray(0, length).toString('latin1') === PREFIX.slice(0, length);
}

/**
 * Reads the preface line from `bytes` (what has arrived so far): the port and the bytes after
 * the line; `undefined` while the line is incomplete; an Error when it cannot be one.
 */
export function parseTcpPreface(bytes: Buffer): { port: number; rest: Buffer } | undefined | Error {
  const end = bytes.indexOf('\r\n');
  if (end === -1) return bytes.length > MAX_LINE ? new Error('no WEFT-TCP line') : undefined;
  const match = /^WEFT-TCP (\d{1,5})$/.exec(bytes.subarray(0, end).toString('latin1'));
  const port = Number(match?.[1]);
  if (!match || port < 1 || port > 65535) return new Error('malformed WEFT-TCP line');
  return { port, rest: bytes.subarray(end + 2) };
}
