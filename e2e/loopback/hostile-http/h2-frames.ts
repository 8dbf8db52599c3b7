// Raw HTTP/2 frames, for tests that must send what no well-behaved client library would:
// thousands of streams opened and reset at once, floods of PING or SETTINGS.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { HostPort } from '@weft/runtime';

export const CONNECTION_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

const TYPE = { DATA: 0x0, HEADERS: 0x1, RST_STREAM: 0x3, SETTINGS: 0x4, PING: 0x6, GOAWAY: 0x7 } as const;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
/** RST_STREAM error code CANCEL. */
const CANCEL = 0x8;

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK string literal (no Huffman coding), short enough for a one-byte length. */
function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length > 126) throw new Error('string too long for a one-byte HPACK length');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

/** HPACK "literal header field without indexing", the name from the static table (index < 15). */
function literalWithIndexedName(index: number, value: string): Buffer {
  return Buffer.concat([Buffer.from([index]), hpackString(value)]);
}

/** A GET request's HEADERS frame (END_STREAM): :method GET, :scheme http, `path`, :authority. */
export function getRequest(streamId: number, authority: string, path = '/'): Buffer {
  // Static table: 2 = :method GET, 6 = :scheme http, 4 = :path /, 1 = :authority.
  const block = Buffer.concat([Buffer.from([0x82, 0x86]), path === '/' ? Buffer.from([0x84]) : literalWithIndexedName(4, path), literalWithIndexedName(1, authority)]);
  return frame(TYPE.HEADERS, END_HEADERS | END_STREAM, streamId, block);
}

export function rstStream(streamId: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(CANCEL);
  return frame(TYPE.RST_STREAM, 0, streamId, payload);
}

export function emptySettings(): Buffer {
  return frame(TYPE.SETTINGS, 0, 0, Buffer.alloc(0));
}

export function ping(): Buffer {
  return frame(TYPE.PING, 0, 0, Buffer.alloc(8));
}

export interface ReceivedFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** Splits received bytes into frames (a trailing partial frame is left out). */
export function parseFrames(bytes: Buffer): ReceivedFrame[] {
  const frames: ReceivedFrame[] = [];
  let offset = 0;
  while (offset + 9 <= bytes.length) {
    const length = bytes.readUIntBE(offset, 3);
    if (offset + 9 + length > bytes.length) break;
    frames.push({ type: bytes[offset + 3] as number, flags: bytes[offset + 4] as number, streamId: bytes.readUInt32BE(offset + 5) & 0x7fffffff, payload: bytes.subarray(offset + 9, offset + 9 + length) });
    offset += 9 + length;
  }
  return frames;
}

/** The error code of the first GOAWAY among `frames`, if any. */
export function goawayCode(frames: readonly ReceivedFrame[]): number | undefined {
  const goaway = frames.find((candidate) => candidate.type === TYPE.GOAWAY);
  return goaway?.payload.readUInt32BE(4);
}

/** RST_STREAM frames among `frames` with error code `code`. */
export function resets(frames: readonly ReceivedFrame[], code: number): number {
  return frames.filter((candidate) => candidate.type === TYPE.RST_STREAM && candidate.payload.readUInt32BE(0) === code).length;
}

export const FRAME_TYPE = TYPE;

/** A raw HTTP/2 connection: the preface and an empty SETTINGS are sent on open; frames received are kept. */
export class RawH2Connection {
  readonly closed: Promise<void>;
  private readonly socket: Socket;
  private received = Buffer.alloc(0);
  private isClosed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => (this.isClosed = true));
  }

  static async open(address: HostPort): Promise<RawH2Connection> {
    const socket = connect(address.port, address.host);
    await once(socket, 'connect');
    socket.write(Buffer.concat([CONNECTION_PREFACE, emptySettings()]));
    return new RawH2Connection(socket);
  }

  /** Whether the write was taken without buffering (false: the peer is not reading fast enough). */
  write(bytes: Buffer): boolean {
    return this.isClosed ? false : this.socket.write(bytes);
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  frames(): ReceivedFrame[] {
    return parseFrames(this.received);
  }

  /** Resolves with the frames once `until` holds for them, or the connection closes, or `timeoutMs` passes. */
  async waitFor(until: (frames: ReceivedFrame[]) => boolean, timeoutMs = 10_000): Promise<ReceivedFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (!until(this.frames()) && !this.isClosed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return this.frames();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
