// An incremental HTTP/1.1 response parser (RFC 9112) for the upstream transport: fed the
// bytes of one connection as they arrive, it reports the head, the body chunks and the end
// (with trailers). It refuses what could be read two ways (both Content-Length and
// Transfer-Encoding, conflicting lengths, bad chunk sizes, obsolete line folding): a proxy
// that guessed would be a request-smuggling vector.
import type { HeaderMap } from '../../http/handler.ts';

/** Status line and headers together (and, separately, the trailers) may not exceed this. */
export const MAX_HEAD_BYTES = 64 * 1024;

/** The upstream sent something that is not a well-formed, unambiguous HTTP/1.1 response. */
export class ResponseParseError extends Error {
  readonly code = 'WEFT_ERR_UPSTREAM_PROTOCOL';
}

export interface ResponseHead {
  readonly status: number;
  readonly headers: HeaderMap;
  /** Whether the connection may carry another request after this response. */
  readonly keepAlive: boolean;
}

export interface ResponseParserEvents {
  /** `hasBody` false: `end` follows at once. */
  head(head: ResponseHead, hasBody: boolean): void;
  data(chunk: Buffer): void;
  end(trailers: HeaderMap | undefined): void;
}

type State = 'head' | 'fixed' | 'chunk-size' | 'chunk-data' | 'chunk-data-end' | 'trailers' | 'until-close' | 'done';

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n\0]*)?$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\r\n\0]*?)[ \t]*$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,15})[ \t]*(?:;[^\r\n\0]*)?$/;
/** A chunk-size line with extensions longer than this is refused (they are never used). */
const MAX_CHUNK_LINE = 4096;

function addHeader(headers: HeaderMap, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
  else if (Array.isArray(existing)) existing.push(value);
  else headers[name] = [existing, value];
}

/** Header lines ("name: value") into a map: names lower-cased, repeats as arrays, set-cookie always an array. */
function parseHeaderLines(lines: readonly string[]): HeaderMap {
  const headers: HeaderMap = {};
  for (const line of lines) {
    const match = HEADER_LINE.exec(line);
    if (!match) throw new ResponseParseError(line.startsWith(' ') || line.startsWith('\t') ? 'obsolete line folding in a response header' : `malformed response header line: ${JSON.stringify(line.slice(0, 80))}`);
    addHeader(headers, (match[1] as string).toLowerCase(), match[2] as string);
  }
  return headers;
}

function listTokens(value: string | string[]): string[] {
  // The usual case, one token ("keep-alive", "chunked"), without the list's allocations.
  if (typeof value === 'string' && !value.includes(',')) return [value.trim().toLowerCase()];
  return (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')).map((token) => token.trim().toLowerCase()).filter((token) => token !== '');
}

/** The one length all Content-Length values agree on (RFC 9112 §6.3 ¶5), or a refusal. */
function contentLength(value: string | string[]): number {
  const values = (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')).map((item) => item.trim());
  const first = values[0] as string;
  if (!/^\d{1,15}$/.test(first) || values.some((item) => item !== first)) throw new ResponseParseError(`invalid or conflicting content-length: ${JSON.stringify(value)}`);
  return Number(first);
}

export class Http1ResponseParser {
  private readonly headRequest: boolean;
  private readonly events: ResponseParserEvents;
  private state: State = 'head';
  /** Bytes of a head, chunk-size line or trailer section not complete yet. */
  private pending: Buffer | undefined;
  /** Bytes left of a Content-Length body or of the current chunk. */
  private remaining = 0;
  private keepAlive = true;
  private readonly trailerLines: string[] = [];
  private trailerBytes = 0;
  /** Bytes the upstream sent for this response, interim responses included. */
  received = 0;
  /** The upstream sent bytes after the response ended: the connection cannot be trusted again. */
  excess = false;

  /** `headRequest`: the request was HEAD, so no body follows whatever the headers say. */
  constructor(headRequest: boolean, events: ResponseParserEvents) {
    this.headRequest = headRequest;
    this.events = events;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** Whether the connection may be used again once the response is done. */
  get reusable(): boolean {
    return this.state === 'done' && this.keepAlive && !this.excess;
  }

  /** Feeds the next bytes of the connection; throws ResponseParseError on a malformed response. */
  execute(chunk: Buffer): void {
    this.received += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      switch (this.state) {
        case 'head':
          offset = this.readHead(chunk, offset);
          break;
        case 'fixed':
        case 'chunk-data': {
          const take = Math.min(this.remaining, chunk.length - offset);
          this.remaining -= take;
          const data = chunk.subarray(offset, offset + take);
          offset += take;
          if (this.remaining === 0) this.state = this.state === 'fixed' ? 'done' : 'chunk-data-end';
          this.events.data(data);
          if (this.state === 'done') this.events.end(undefined);
          break;
        }
        case 'chunk-size':
          offset = this.readChunkSize(chunk, offset);
          break;
        case 'chunk-data-end':
          offset = this.readChunkEnd(chunk, offset);
          break;
        case 'trailers':
          offset = this.readTrailers(chunk, offset);
          break;
        case 'until-close':
          this.events.data(offset === 0 ? chunk : chunk.subarray(offset));
          return;
        case 'done':
          this.excess = true;
          return;
      }
    }
  }

  /** The upstream closed the connection: ends a body delimited by the close, else refuses a truncated response. */
  finish(): void {
    if (this.state === 'done') return;
    if (this.state === 'until-close') {
      this.state = 'done';
      this.events.end(undefined);
      return;
    }
    throw new ResponseParseError(this.state === 'head' ? 'connection closed before the response head' : 'connection closed in the middle of the response body');
  }

  /** Collects bytes up to a terminator; returns the section without it and the offset after it, or undefined to wait for more. */
  private collect(chunk: Buffer, offset: number, terminator: Buffer, limit: number, what: string): [Buffer, number] | undefined {
    const pending = this.pending;
    const data = pending ? Buffer.concat([pending, chunk.subarray(offset)]) : chunk.subarray(offset);
    // A terminator split across chunks starts at most terminator.length - 1 bytes back.
    const from = pending ? Math.max(0, pending.length - terminator.length + 1) : 0;
    const end = data.indexOf(terminator, from);
    if (end === -1) {
      if (data.length > limit) throw new ResponseParseError(`${what} larger than ${limit} bytes`);
      this.pending = Buffer.from(data);
      return undefined;
    }
    if (end > limit) throw new ResponseParseError(`${what} larger than ${limit} bytes`);
    this.pending = undefined;
    const consumedFromChunk = end + terminator.length - (pending ? pending.length : 0);
    return [data.subarray(0, end), offset + consumedFromChunk];
  }

  private readHead(chunk: Buffer, offset: number): number {
    const section = this.collect(chunk, offset, HEAD_END, MAX_HEAD_BYTES, 'response head');
    if (!section) return chunk.length;
    const [bytes, next] = section;
    const lines = bytes.toString('latin1').split('\r\n');
    const statusLine = STATUS_LINE.exec(lines[0] as string);
    if (!statusLine) throw new ResponseParseError(`malformed status line: ${JSON.stringify((lines[0] as string).slice(0, 80))}`);
    const status = Number(statusLine[2]);
    const headers = parseHeaderLines(lines.slice(1));
    if (status === 101) throw new ResponseParseError('upstream switched protocols (101) on a plain request');
    // Interim responses (100 Continue, 103 Early Hints) are not passed on: the final one follows.
    if (status < 200) return next;
    const connection = headers.connection === undefined ? [] : listTokens(headers.connection);
    this.keepAlive = statusLine[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    this.frame(status, headers);
    return next;
  }

  /** Decides how the body is delimited (RFC 9112 §6.3) and reports the head. */
  private frame(status: number, headers: HeaderMap): void {
    const head = (): ResponseHead => ({ status, headers, keepAlive: this.keepAlive });
    if (this.headRequest || status === 204 || status === 304) return this.endWithoutBody(head());
    const transferEncoding = headers['transfer-encoding'];
    const length = headers['content-length'];
    if (transferEncoding !== undefined) {
      if (length !== undefined) throw new ResponseParseError('response has both transfer-encoding and content-length');
      const codings = listTokens(transferEncoding);
      const chunkedAt = codings.indexOf('chunked');
      if (chunkedAt !== -1 && chunkedAt !== codings.length - 1) throw new ResponseParseError(`chunked is not the final transfer coding: ${JSON.stringify(transferEncoding)}`);
      if (chunkedAt === -1) {
        this.state = 'until-close';
        this.keepAlive = false;
      } else {
        this.state = 'chunk-size';
      }
    } else if (length !== undefined) {
      this.remaining = contentLength(length);
      if (this.remaining === 0) return this.endWithoutBody(head());
      this.state = 'fixed';
    } else {
      this.state = 'until-close';
      this.keepAlive = false;
    }
    this.events.head(head(), true);
  }

  private endWithoutBody(head: ResponseHead): void {
    this.state = 'done';
    this.events.head(head, false);
    this.events.end(undefined);
  }

  private readChunkSize(chunk: Buffer, offset: number): number {
    const section = this.collect(chunk, offset, CRLF, MAX_CHUNK_LINE, 'chunk-size line');
    if (!section) return chunk.length;
    const [bytes, next] = section;
    const line = bytes.toString('latin1');
    const match = CHUNK_SIZE.exec(line);
    if (!match) throw new ResponseParseError(`invalid chunk size: ${JSON.stringify(line.slice(0, 80))}`);
    this.remaining = Number.parseInt(match[1] as string, 16);
    this.state = this.remaining === 0 ? 'trailers' : 'chunk-data';
    return next;
  }

  private readChunkEnd(chunk: Buffer, offset: number): number {
    const pending = this.pending;
    const data = pending ? Buffer.concat([pending, chunk.subarray(offset)]) : chunk.subarray(offset);
    if (data[0] !== 0x0d || (data.length > 1 && data[1] !== 0x0a)) throw new ResponseParseError('chunk data not followed by CRLF');
    if (data.length < 2) {
      this.pending = Buffer.from(data);
      return chunk.length;
    }
    this.pending = undefined;
    this.state = 'chunk-size';
    return offset + 2 - (pending ? pending.length : 0);
  }

  /** One trailer line at a time; the empty line ends the section (and the response). */
  private readTrailers(chunk: Buffer, offset: number): number {
    const section = this.collect(chunk, offset, CRLF, MAX_HEAD_BYTES - this.trailerBytes, 'trailer section');
    if (!section) return chunk.length;
    const [bytes, next] = section;
    if (bytes.length > 0) {
      this.trailerLines.push(bytes.toString('latin1'));
      this.trailerBytes += bytes.length + 2;
      return next;
    }
    this.state = 'done';
    this.events.end(this.trailerLines.length > 0 ? parseHeaderLines(this.trailerLines) : undefined);
    return next;
  }
}
