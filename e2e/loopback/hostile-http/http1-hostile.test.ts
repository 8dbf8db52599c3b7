// Hostile HTTP/1.1 on both listeners that face untrusted bytes: the outbound port (from the
// application) and the inbound port (from a peer, plaintext under PERMISSIVE). Each case sends
// raw bytes and checks both the answer and what the application behind the target sidecar
// received: nothing, or exactly the one well-formed request that was meant.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MAX_HEADER_BYTES, maxRequestHeaders, RESPONSE_FLAGS_HEADER } from '@weft/proxy';
import type { HostPort } from '@weft/runtime';
import { httpRequest, pollUntil } from '../helpers.ts';
import { sendRaw, startHostileMesh, type HostileMesh } from './hostile-mesh.ts';

const SIDES = ['outbound', 'inbound'] as const;
type Side = (typeof SIDES)[number];

/** Short, so the slowloris test is quick; the default is 10 s. */
const HEADERS_TIMEOUT_S = 2;

describe('hostile HTTP/1.1', () => {
  let hostile: HostileMesh;
  let host: string;

  before(async () => {
    hostile = await startHostileMesh(['--request-headers-timeout', `${HEADERS_TIMEOUT_S}s`]);
    host = hostile.host;
  });

  after(async () => {
    await hostile?.stop();
  });

  const address = (side: Side): HostPort => hostile[side];
  const head = (lines: string[]): string => `${lines.join('\r\n')}\r\n\r\n`;

  /**
   * A well-formed request sent after the case, on a new connection, waited for at the app: once
   * it is there, whatever the case made the proxy send upstream would have arrived too.
   */
  async function sentinel(side: Side): Promise<void> {
    const reply = await httpRequest(address(side), 'GET', '/sentinel', { host });
    assert.equal(reply.status, 200, reply.text);
    await hostile.app.arrival('/sentinel');
  }

  /** Sends `bytes`, expects `status` (and the connection closed, for parser errors), and nothing at the app. */
  async function refused(side: Side, bytes: string, status: number, options: { closes: boolean } = { closes: true }): Promise<string> {
    hostile.app.reset();
    const reply = await sendRaw(address(side), bytes, options.closes ? {} : { responses: 1 });
    assert.equal(reply.statuses[0], status, reply.text);
    assert.equal(reply.statuses.length, 1, `one response, no second one from a smuggled request: ${reply.text}`);
    if (options.closes) assert.ok(reply.closed, 'the connection is closed after a framing error');
    await sentinel(side);
    assert.deepEqual(
      hostile.app.requests.map((request) => request.url),
      ['/sentinel'],
      'only the sentinel reached the app',
    );
    assert.equal(hostile.app.requestLines().length, 1, `one request line in the app's bytes: ${JSON.stringify(hostile.app.received())}`);
    return reply.text;
  }

  const smuggled = (): string => `GET /smuggled HTTP/1.1\r\nhost: ${host}\r\n\r\n`;

  /** Framing that two parsers could read differently: refused by the strict parser with 400, the connection closed. */
  const framingCases = (): [string, string][] => [
    ['Content-Length with Transfer-Encoding', `${head(['POST /x HTTP/1.1', `host: ${host}`, 'content-length: 4', 'transfer-encoding: chunked'])}0\r\n\r\n${smuggled()}`],
    ['Transfer-Encoding: chunked, identity', `${head(['POST /x HTTP/1.1', `host: ${host}`, 'transfer-encoding: chunked, identity', 'content-length: 5'])}hello`],
    ['Transfer-Encoding: xchunked', `${head(['POST /x HTTP/1.1', `host: ${host}`, 'transfer-encoding: xchunked'])}5\r\nhello\r\n0\r\n\r\n`],
    ['space before the colon of Transfer-Encoding', `${head(['POST /x HTTP/1.1', `host: ${host}`, 'transfer-encoding : chunked', 'content-length: 5'])}hello`],
    ['duplicate Content-Length, same value', `${head(['POST /x HTTP/1.1', `host: ${host}`, 'content-length: 5', 'content-length: 5'])}hello`],
    ['duplicate Content-Length, conflicting values', `${head(['POST /x HTTP/1.1', `host: ${host}`, 'content-length: 5', `content-length: ${5 + smuggled().length}`])}hello${smuggled()}`],
    ['Content-Length as a list', `${head(['POST /x HTTP/1.1', `host: ${host}`, 'content-length: 5, 5'])}hello`],
    ['obs-fold (a header continued on the next line)', head(['GET /x HTTP/1.1', `host: ${host}`, 'x-folded: one', ' transfer-encoding: chunked'])],
    ['chunk size 0x10', `${head(['POST /x HTTP/1.1', `host: ${host}`, 'transfer-encoding: chunked'])}0x10\r\n0123456789abcdef\r\n0\r\n\r\n`],
    ['negative chunk size', `${head(['POST /x HTTP/1.1', `host: ${host}`, 'transfer-encoding: chunked'])}-5\r\nhello\r\n0\r\n\r\n`],
    ['chunk size overflowing 64 bits', `${head(['POST /x HTTP/1.1', `host: ${host}`, 'transfer-encoding: chunked'])}1ffffffffffffffff\r\nhello\r\n0\r\n\r\n`],
    ['bare CR inside a header value', head(['GET /x HTTP/1.1', `host: ${host}`, 'x-a: one\rtransfer-encoding: chunked'])],
    ['bare LF inside the header block', head(['GET /x HTTP/1.1', `host: ${host}`, 'x-a: one\ntransfer-encoding: chunked'])],
    ['bare LF line endings', `GET /x HTTP/1.1\nhost: ${host}\n\n`],
    ['NUL in a header value', head(['GET /x HTTP/1.1', `host: ${host}`, 'x-a: on\0e'])],
    ['no Host', head(['GET /x HTTP/1.1'])],
  ];

  for (const side of SIDES) {
    describe(`on the ${side} listener`, () => {
      it('refuses ambiguous framing with 400 and closes; nothing reaches the app (CL+TE, TE variants, duplicate CL, obs-fold, bad chunk sizes, bare CR/LF, NUL)', async (t) => {
        for (const [name, bytes] of framingCases()) {
          await t.test(name, async () => {
            await refused(side, bytes, 400);
          });
        }
      });

      it('refuses a header block over the size limit with 431', async () => {
        await refused(side, head(['GET /x HTTP/1.1', `host: ${host}`, `x-big: ${'a'.repeat(MAX_HEADER_BYTES)}`]), 431);
      });

      it(`refuses more than ${maxRequestHeaders(side)} headers with 431, and passes exactly that many`, async () => {
        const limit = maxRequestHeaders(side);
        const fields = (count: number): string[] => Array.from({ length: count - 1 }, (_, i) => `x-h${i}: v`);
        const text = await refused(side, head(['GET /x HTTP/1.1', `host: ${host}`, ...fields(limit + 1)]), 431, { closes: false });
        assert.match(text, new RegExp(`${RESPONSE_FLAGS_HEADER}: DPE`));
        hostile.app.reset();
        const reply = await sendRaw(address(side), head(['GET /many HTTP/1.1', `host: ${host}`, ...fields(limit)]), { responses: 1 });
        assert.deepEqual(reply.statuses, [200], reply.text);
        const arrived = hostile.app.requests.find((request) => request.url === '/many');
        assert.equal(arrived?.headers[`x-h${limit - 2}`], 'v', 'the last header arrived');
      });

      it('refuses an invalid Host with 400 (spaces, userinfo, empty, two Host fields); nothing reaches the app', async () => {
        for (const hostLines of [['host: tar get:8080'], ['host: evil@target:8080'], ['host: '], [`host: ${host}`, 'host: other:8080']]) {
          await refused(side, head(['GET /x HTTP/1.1', ...hostLines]), 400, { closes: false });
        }
      });

      it('forwards a body that looks like a request as one request with exactly that body', async () => {
        hostile.app.reset();
        const body = smuggled();
        const reply = await sendRaw(address(side), `${head(['POST /carrier HTTP/1.1', `host: ${host}`, `content-length: ${body.length}`])}${body}`, { responses: 1 });
        assert.deepEqual(reply.statuses, [200], reply.text);
        await sentinel(side);
        assert.deepEqual(
          hostile.app.requests.map(({ method, url, body: received }) => ({ method, url, body: received })),
          [
            { method: 'POST', url: '/carrier', body },
            { method: 'GET', url: '/sentinel', body: '' },
          ],
        );
      });

      it('a chunk size that turns invalid after the headers went upstream: the app never sees a complete request', async () => {
        hostile.app.reset();
        const socket = connect(address(side).port, address(side).host);
        socket.on('error', () => undefined);
        // Read (and ignore) the answer: an unread socket never reports the close.
        socket.resume();
        const closed = new Promise<boolean>((resolve) => {
          socket.once('close', () => resolve(true));
          setTimeout(() => resolve(false), 10_000).unref();
        });
        socket.write(`${head(['POST /cut HTTP/1.1', `host: ${host}`, 'transfer-encoding: chunked'])}5\r\nhello\r\n`);
        await pollUntil('the request to reach the app', 10_000, () => (hostile.app.received().includes('POST /cut') ? true : undefined));
        socket.write('zz\r\n');
        assert.ok(await closed, 'the connection was closed after the bad chunk size');
        await sentinel(side);
        assert.deepEqual(
          hostile.app.requests.map((request) => request.url),
          ['/sentinel'],
          'no /cut request completed at the app',
        );
      });

      it(`closes a connection whose headers trickle in (slowloris) with 408 after the headers timeout; nothing reaches the app`, async () => {
        hostile.app.reset();
        const started = Date.now();
        const reply = await sendRaw(address(side), `GET /slow HTTP/1.1\r\nhost: ${host}\r\n`, { trickle: { piece: 'x-slow: y\r\n', everyMs: 200 }, waitMs: HEADERS_TIMEOUT_S * 10_000 });
        assert.ok(reply.closed, `closed (after ${Date.now() - started} ms)`);
        assert.deepEqual(reply.statuses, [408], reply.text);
        await sentinel(side);
        assert.deepEqual(
          hostile.app.requests.map((request) => request.url),
          ['/sentinel'],
        );
      });
    });
  }
});
