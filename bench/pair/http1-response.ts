// Minimal HTTP/1.1 response framing for the open-loop generator: finds where a response ends
// (Content-Length, chunked, no body, or connection close) and reads its status. Headers are
// not kept: the generator only needs "done, with this status".

export interface ResponseEnd {
  readonly status: number;
  /** The server will close the connection after this response. */
  readonly close: boolean;
}

type Framing = { readonly kind: 'length'; readonly length: number } | { readonly kind: 'chunked' } | { readonly kind: 'none' } | { readonly kind: 'eof' };

interface Head {
  readonly status: number;
  readonly close: boolean;
  readonly bodyStart: number;
  readonly framing: Framing;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const MAX_HEAD_BYTES = 64 * 1024;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})/;

export class ResponseParser {
  private buffer: Buffer = Buffer.alloc(0);
  private head: Head | undefined;

  /** Feeds bytes; returns the response they complete, if any. Throws on malformed input. */
  push(chunk: Buffer): ResponseEnd | undefined {
    // The usual case (a whole response in one read) avoids copying.
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      this.head ??= this.parseHead();
      if (!this.head) return undefined;
      // 1xx responses precede the real one: drop them and keep reading.
      if (this.head.status < 200) {
        this.consume(this.head.bodyStart);
        continue;
      }
      const end = this.bodyEnd(this.head);
      if (end === undefined) return undefined;
      const { status, close } = this.head;
      this.consume(end);
      return { status, close };
    }
  }

  /** The peer closed: completes a close-delimited response, if one was being read. */
  end(): ResponseEnd | undefined {
    const head = this.head;
    if (head?.framing.kind !== 'eof') return undefined;
    this.consume(this.buffer.length);
    return { status: head.status, close: true };
  }

  private consume(bytes: number): void {
    this.buffer = this.buffer.subarray(bytes);
    this.head = undefined;
  }

  private parseHead(): Head | undefined {
    const index = this.buffer.indexOf(HEAD_END);
    if (index === -1) {
      if (this.buffer.length > MAX_HEAD_BYTES) throw new Error('response head too large');
      return undefined;
    }
    const lines = this.buffer.toString('latin1', 0, index).split('\r\n');
    const statusLine = STATUS_LINE.exec(lines[0] ?? '');
    if (!statusLine) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
    const http10 = statusLine[1] === '0';
    const status = Number(statusLine[2]);
    let length: number | undefined;
    let chunked = false;
    let connection = '';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.split(',').some((coding) => coding.trim() === 'chunked');
      else if (name === 'connection') connection = value;
    }
    const close = connection.includes('close') || (http10 && !connection.includes('keep-alive'));
    let framing: Framing;
    if (status < 200 || status === 204 || status === 304) framing = { kind: 'none' };
    else if (chunked) framing = { kind: 'chunked' };
    else if (length !== undefined) {
      if (!Number.isSafeInteger(length) || length < 0) throw new Error('bad content-length');
      framing = { kind: 'length', length };
    } else framing = { kind: 'eof' };
    return { status, close: close || framing.kind === 'eof', bodyStart: index + HEAD_END.length, framing };
  }

  /** Where the body ends in the buffer, or undefined if it has not all arrived. */
  private bodyEnd(head: Head): number | undefined {
    switch (head.framing.kind) {
      case 'none':
        return head.bodyStart;
      case 'length': {
        const end = head.bodyStart + head.framing.length;
        return this.buffer.length >= end ? end : undefined;
      }
      case 'eof':
        return undefined;
      case 'chunked':
        return this.chunkedEnd(head.bodyStart);
    }
  }

  /** Rescans the chunks from the start each time: bodies here are a few bytes. */
  private chunkedEnd(start: number): number | undefined {
    let position = start;
    for (;;) {
      const lineEnd = this.buffer.indexOf(CRLF, position);
      if (lineEnd === -1) return undefined;
      const sizeText = this.buffer.toString('latin1', position, lineEnd).split(';')[0]?.trim() ?? '';
      const size = Number.parseInt(sizeText, 16);
      if (!/^[0-9a-fA-F]+$/.test(sizeText) || !Number.isSafeInteger(size)) throw new Error(`bad chunk size ${JSON.stringify(sizeText)}`);
      position = lineEnd + CRLF.length;
      if (size === 0) {
        // No trailers: an empty line follows at once; otherwise trailers end with an empty line.
        if (this.buffer.length < position + CRLF.length) return undefined;
        if (this.buffer[position] === 0x0d && this.buffer[position + 1] === 0x0a) return position + CRLF.length;
        const trailersEnd = this.buffer.indexOf(HEAD_END, position - CRLF.length);
        return trailersEnd === -1 ? undefined : trailersEnd + HEAD_END.length;
      }
      if (this.buffer.length < position + size + CRLF.length) return undefined;
      position += size + CRLF.length;
    }
  }
}
