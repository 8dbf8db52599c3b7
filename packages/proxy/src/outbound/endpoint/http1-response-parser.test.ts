import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeaderMap } from '../../http/handler.ts';
import { Http1ResponseParser, MAX_HEAD_BYTES, ResponseParseError, type ResponseHead } from './http1-response-parser.ts';

interface Parsed {
  head: ResponseHead | undefined;
  hasBody: boolean | undefined;
  body: string;
  ended: boolean;
  trailers: HeaderMap | undefined;
  reusable: boolean;
  excess: boolean;
}

/** Feeds `pieces` in order, then the connection's close when `close` is set. */
function parse(pieces: readonly Buffer[], options: { headRequest?: boolean; close?: boolean } = {}): Parsed {
  const parsed: Parsed = { head: undefined, hasBody: undefined, body: '', ended: false, trailers: undefined, reusable: false, excess: false };
  const parser = new Http1ResponseParser(options.headRequest ?? false, {
    head(head, hasBody) {
      assert.equal(parsed.head, undefined, 'one head per response');
      parsed.head = head;
      parsed.hasBody = hasBody;
    },
    data(chunk) {
      assert.ok(parsed.head && !parsed.ended, 'data only between head and end');
      parsed.body += chunk.toString('latin1');
    },
    end(trailers) {
      assert.ok(parsed.head && !parsed.ended, 'one end, after the head');
      parsed.ended = true;
      parsed.trailers = trailers;
    },
  });
  for (const piece of pieces) parser.execute(piece);
  if (options.close) parser.finish();
  parsed.reusable = parser.reusable;
  parsed.excess = parser.excess;
  return parsed;
}

/**
 * Parses `raw` whole, then split at every byte boundary, then one byte at a time: every way
 * of cutting it must give the same result (or the same refusal).
 */
function parseEverySplit(raw: string, options: { headRequest?: boolean; close?: boolean } = {}): Parsed {
  const bytes = Buffer.from(raw, 'latin1');
  const whole = parse([bytes], options);
  for (let at = 1; at < bytes.length; at++) {
    assert.deepEqual(parse([bytes.subarray(0, at), bytes.subarray(at)], options), whole, `split at byte ${at}`);
  }
  const single = [...bytes].map((byte) => Buffer.from([byte]));
  assert.deepEqual(parse(single, options), whole, 'one byte at a time');
  return whole;
}

/** Asserts that every way of cutting `raw` is refused with a message matching `message`. */
function assertRefusedEverySplit(raw: string, message: RegExp, options: { headRequest?: boolean; close?: boolean } = {}): void {
  const bytes = Buffer.from(raw, 'latin1');
  const refusal = (pieces: Buffer[]): void => {
    assert.throws(
      () => parse(pieces, options),
      (error: unknown) => error instanceof ResponseParseError && message.test(error.message),
    );
  };
  refusal([bytes]);
  for (let at = 1; at < bytes.length; at++) refusal([bytes.subarray(0, at), bytes.subarray(at)]);
}

describe('Http1ResponseParser', () => {
  it('reads a content-length body; the connection stays reusable', () => {
    const parsed = parseEverySplit('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\nSet-Cookie: a=1\r\n\r\nhello');
    assert.equal(parsed.head?.status, 200);
    assert.deepEqual(parsed.head?.headers, { 'content-length': '5', 'x-a': ['1', '2'], 'set-cookie': ['a=1'] });
    assert.equal(parsed.body, 'hello');
    assert.ok(parsed.ended);
    assert.ok(parsed.reusable);
  });

  it('reads a chunked body with extensions and trailers', () => {
    const parsed = parseEverySplit('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nGrpc-Status: 0\r\nX-T: a\r\n\r\n');
    assert.equal(parsed.body, 'hello0123456789');
    assert.deepEqual(parsed.trailers, { 'grpc-status': '0', 'x-t': 'a' });
    assert.ok(parsed.ended && parsed.reusable);
  });

  it('reads a chunked body without trailers', () => {
    const parsed = parseEverySplit('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    assert.equal(parsed.body, 'abc');
    assert.equal(parsed.trailers, undefined);
    assert.ok(parsed.ended && parsed.reusable);
  });

  it('reads a body delimited by the close, and does not reuse the connection', () => {
    const parsed = parseEverySplit('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end', { close: true });
    assert.equal(parsed.body, 'until the end');
    assert.ok(parsed.ended);
    assert.ok(!parsed.reusable);
  });

  it('reads until close when transfer-encoding does not end in chunked', () => {
    const parsed = parseEverySplit('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz', { close: true });
    assert.equal(parsed.body, 'zzz');
    assert.ok(parsed.ended && !parsed.reusable);
  });

  it('expects no body after HEAD, 204 and 304, whatever the headers say', () => {
    const head = parseEverySplit('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', { headRequest: true });
    assert.equal(head.hasBody, false);
    assert.ok(head.ended && head.reusable);
    assert.deepEqual(head.head?.headers, { 'content-length': '100' });
    for (const status of [204, 304]) {
      const parsed = parseEverySplit(`HTTP/1.1 ${status} X\r\nContent-Length: 3\r\n\r\n`);
      assert.equal(parsed.head?.status, status);
      assert.equal(parsed.hasBody, false);
      assert.ok(parsed.ended && parsed.reusable);
    }
  });

  it('ends at once on content-length 0', () => {
    const parsed = parseEverySplit('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
    assert.equal(parsed.hasBody, false);
    assert.ok(parsed.ended && parsed.reusable);
  });

  it('skips interim responses (100 Continue, 103) and reports the final one', () => {
    const parsed = parseEverySplit('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok');
    assert.equal(parsed.head?.status, 201);
    assert.deepEqual(parsed.head?.headers, { 'content-length': '2' });
    assert.equal(parsed.body, 'ok');
  });

  it('accepts identical repeated content-lengths and a status line without a reason', () => {
    const parsed = parseEverySplit('HTTP/1.1 200\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok');
    assert.equal(parsed.body, 'ok');
  });

  it('does not reuse the connection after connection: close, HTTP/1.0, or bytes past the end', () => {
    assert.ok(!parseEverySplit('HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n').reusable);
    assert.ok(!parseEverySplit('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').reusable);
    assert.ok(parseEverySplit('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n').reusable);
    const excess = parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab')]);
    assert.equal(excess.body, 'a');
    assert.ok(excess.excess && !excess.reusable);
  });

  it('refuses ambiguous framing', () => {
    assertRefusedEverySplit('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', /both transfer-encoding and content-length/);
    assertRefusedEverySplit('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n', /conflicting content-length/);
    assertRefusedEverySplit('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /content-length/);
    assertRefusedEverySplit('HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n', /content-length/);
    assertRefusedEverySplit('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', /not the final transfer coding/);
  });

  it('refuses invalid chunk sizes and chunks not followed by CRLF', () => {
    assertRefusedEverySplit('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /invalid chunk size/);
    assertRefusedEverySplit('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n', /invalid chunk size/);
    assertRefusedEverySplit('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1234567890abcdef0\r\n', /invalid chunk size/);
    assertRefusedEverySplit('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n', /not followed by CRLF/);
  });

  it('refuses malformed heads', () => {
    assertRefusedEverySplit('HTTP/2 200 OK\r\n\r\n', /malformed status line/);
    assertRefusedEverySplit('HTTP/1.1 20 OK\r\n\r\n', /malformed status line/);
    assertRefusedEverySplit('HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n', /malformed response header/);
    assertRefusedEverySplit('HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n', /obsolete line folding/);
    assertRefusedEverySplit('HTTP/1.1 200 OK\r\nX-A: a\nb\r\n\r\n', /malformed response header/);
    assertRefusedEverySplit('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', /switched protocols/);
  });

  it('refuses a head larger than 64 KiB, even before it ends', () => {
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES)}`;
    assert.throws(() => parse([Buffer.from(big)]), /response head larger than 65536 bytes/);
    assert.throws(() => parse([Buffer.from(big.slice(0, 40_000)), Buffer.from(big.slice(40_000))]), /response head larger/);
    // Just under the limit is fine.
    const fits = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES - 30)}\r\n\r\n`;
    assert.equal(parse([Buffer.from(fits)]).head?.status, 200);
  });

  it('refuses a trailer section larger than 64 KiB', () => {
    const raw = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'X-T: aaaaaaaaaa\r\n'.repeat(5000)}\r\n`;
    assert.throws(() => parse([Buffer.from(raw)]), /trailer section larger/);
  });

  it('refuses a connection closed before the head or mid-body, but not after a complete response', () => {
    assert.throws(() => parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-')], { close: true }), /closed before the response head/);
    assert.throws(() => parse([], { close: true }), /closed before the response head/);
    assert.throws(() => parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel')], { close: true }), /closed in the middle of the response body/);
    assert.throws(() => parse([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n')], { close: true }), /closed in the middle/);
    assert.ok(parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')], { close: true }).ended);
  });
});
