import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseParser } from './http1-response.ts';

/** Feeds `text` one piece at a time; returns what each push returned. */
function feed(parser: ResponseParser, ...pieces: string[]): unknown[] {
  return pieces.map((piece) => parser.push(Buffer.from(piece, 'latin1')));
}

describe('ResponseParser', () => {
  it('ends a Content-Length response after its body, also when split anywhere', () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n';
    for (let cut = 1; cut < response.length; cut++) {
      const results = feed(new ResponseParser(), response.slice(0, cut), response.slice(cut));
      assert.deepEqual(results, [undefined, { status: 200, close: false }], `cut at ${cut}`);
    }
  });

  it('ends a chunked response at the last chunk, with or without trailers', () => {
    const parser = new ResponseParser();
    assert.deepEqual(feed(parser, 'HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', '0\r\n', '\r\n'), [undefined, undefined, { status: 503, close: false }]);
    assert.deepEqual(feed(parser, 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\nX-Trailer: 1\r\n\r\n'), [{ status: 200, close: false }]);
  });

  it('needs no body for 204 and 304, skips 1xx, and notes Connection: close', () => {
    const parser = new ResponseParser();
    assert.deepEqual(feed(parser, 'HTTP/1.1 204 No Content\r\n\r\n'), [{ status: 204, close: false }]);
    assert.deepEqual(feed(parser, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'), [{ status: 200, close: true }]);
  });

  it('reads a response without length until the connection ends', () => {
    const parser = new ResponseParser();
    assert.deepEqual(feed(parser, 'HTTP/1.0 200 OK\r\n\r\nsome', ' body'), [undefined, undefined]);
    assert.deepEqual(parser.end(), { status: 200, close: true });
  });

  it('rejects what is not HTTP', () => {
    assert.throws(() => new ResponseParser().push(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), /bad status line/);
    assert.throws(() => new ResponseParser().push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')), /bad chunk size/);
  });
});
