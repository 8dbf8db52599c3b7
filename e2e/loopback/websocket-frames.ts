// Just enough RFC 6455 for tests: the handshake key, and single text frames (client frames
// masked, server frames not). No fragmentation, no extensions.
import { createHash, randomBytes } from 'node:crypto';

export function acceptKey(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

export function textFrame(text: string, masked: boolean): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('test frames are short');
  if (!masked) return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload.map((byte, index) => byte ^ (mask[index % 4] as number)));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, body]);
}

/** The text of one complete frame at the start of `bytes`, and what follows; undefined if incomplete. */
export function readTextFrame(bytes: Buffer): { text: string; rest: Buffer } | undefined {
  if (bytes.length < 2) return undefined;
  const masked = ((bytes[1] as number) & 0x80) !== 0;
  const length = (bytes[1] as number) & 0x7f;
  const start = 2 + (masked ? 4 : 0);
  if (bytes.length < start + length) return undefined;
  const payload = Buffer.from(bytes.subarray(start, start + length));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (bytes[2 + (i % 4)] as number);
  return { text: payload.toString(), rest: bytes.subarray(start + length) };
}
