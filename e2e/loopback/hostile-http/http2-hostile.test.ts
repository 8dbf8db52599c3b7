// Hostile HTTP/2 (h2c) on the outbound port and the plaintext inbound port: rapid reset
// (CVE-2023-44487), PING and SETTINGS floods, more streams than allowed, invalid :authority and
// too many headers. Checked: what the caller gets (GOAWAY and close, REFUSED_STREAM, 400/431 or a
// stream reset), what the application behind the target sidecar received, and that the sidecar
// still serves the next caller.
import assert from 'node:assert/strict';
import { connect, constants, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { maxRequestHeaders } from '@weft/proxy';
import { formatHostPort } from '@weft/runtime';
import { pollUntil } from '../helpers.ts';
import { FRAME_TYPE, getRequest, goawayCode, RawH2Connection, resets, rstStream, ping, emptySettings } from './h2-frames.ts';
import { startHostileMesh, type HostileMesh } from './hostile-mesh.ts';

const SIDES = ['outbound', 'inbound'] as const;
type Side = (typeof SIDES)[number];

/** Small, so the cap is quick to reach; the default is 1000. */
const MAX_STREAMS = 20;
const REFUSED_STREAM = constants.NGHTTP2_REFUSED_STREAM;

interface Answer {
  /** The response status, or undefined when the stream was reset. */
  readonly status: number | undefined;
  readonly rstCode: number;
}

/** One request on a well-behaved client session; a reset is an answer too. */
function ask(session: ClientHttp2Session, headers: OutgoingHttpHeaders): Promise<Answer> {
  return new Promise((resolve) => {
    const stream = session.request({ ':method': 'GET', ...headers }, { endStream: true });
    let status: number | undefined;
    stream.on('response', (response) => (status = Number(response[':status'])));
    stream.on('error', () => undefined);
    stream.resume();
    stream.once('close', () => resolve({ status, rstCode: stream.rstCode ?? 0 }));
  });
}

describe('hostile HTTP/2', () => {
  let hostile: HostileMesh;

  before(async () => {
    hostile = await startHostileMesh(['--http2-max-concurrent-streams', String(MAX_STREAMS)]);
  });

  after(async () => {
    await hostile?.stop();
  });

  async function withSession<T>(side: Side, use: (session: ClientHttp2Session) => Promise<T>): Promise<T> {
    const session = connect(`http://${formatHostPort(hostile[side])}`);
    session.on('error', () => undefined);
    try {
      return await use(session);
    } finally {
      session.close();
    }
  }

  /** A well-formed request on a new connection: the sidecar still serves, and it reaches the app. */
  async function sentinel(side: Side): Promise<void> {
    const answer = await withSession(side, (session) => ask(session, { ':path': '/sentinel', ':authority': hostile.host }));
    assert.equal(answer.status, 200);
    await hostile.app.arrival('/sentinel');
  }

  const urls = (): string[] => hostile.app.requests.map((request) => request.url);

  /** Writes `frame(i)` for i = 0.. until `count`, or the proxy closes the connection. */
  async function flood(connection: RawH2Connection, count: number, frame: (i: number) => Buffer): Promise<void> {
    for (let i = 0; i < count && connection.isOpen; i += 100) {
      connection.write(Buffer.concat(Array.from({ length: Math.min(100, count - i) }, (_, k) => frame(i + k))));
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  for (const side of SIDES) {
    describe(`on the ${side} listener`, () => {
      it('rapid reset: thousands of streams opened and reset at once close the connection with GOAWAY; the app sees a bounded few', async () => {
        hostile.app.reset();
        const connection = await RawH2Connection.open(hostile[side]);
        await flood(connection, 10_000, (i) => Buffer.concat([getRequest(2 * i + 1, hostile.host, '/reset'), rstStream(2 * i + 1)]));
        await Promise.race([connection.closed, new Promise((resolve) => setTimeout(resolve, 20_000))]);
        assert.equal(connection.isOpen, false, 'the connection was closed');
        assert.notEqual(goawayCode(connection.frames()), undefined, 'a GOAWAY came first');
        await sentinel(side);
        const reached = urls().filter((url) => url === '/reset').length;
        assert.ok(reached < 1000, `${reached} reset streams reached the app`);
      });

      for (const [name, frame] of [
        ['PING', ping],
        ['SETTINGS', emptySettings],
      ] as const) {
        it(`a ${name} flood closes the connection; the sidecar keeps serving`, async () => {
          hostile.app.reset();
          const connection = await RawH2Connection.open(hostile[side]);
          await flood(connection, 200_000, frame);
          await Promise.race([connection.closed, new Promise((resolve) => setTimeout(resolve, 20_000))]);
          assert.equal(connection.isOpen, false, 'the connection was closed');
          await sentinel(side);
        });
      }

      it(`refuses streams beyond ${MAX_STREAMS} open at once (REFUSED_STREAM); the app never holds more`, async () => {
        hostile.app.reset();
        // Sent at once, before the server's SETTINGS are acknowledged: nghttp2 refuses the excess
        // streams one by one (REFUSED_STREAM). Once acknowledged, exceeding them is a connection error.
        const connection = await RawH2Connection.open(hostile[side]);
        const extra = 10;
        connection.write(Buffer.concat(Array.from({ length: MAX_STREAMS + extra }, (_, i) => getRequest(2 * i + 1, hostile.host, `/hold/${i}`))));
        const frames = await connection.waitFor((received) => resets(received, REFUSED_STREAM) >= extra);
        assert.equal(resets(frames, REFUSED_STREAM), extra, 'the streams over the limit were refused');
        await pollUntil(`${MAX_STREAMS} requests held at the app`, 15_000, () => (hostile.app.requests.length >= MAX_STREAMS ? true : undefined));
        // Released, they are answered; then the app has seen exactly the admitted ones.
        hostile.app.releaseHeld();
        await connection.waitFor((received) => received.filter((frame) => frame.type === FRAME_TYPE.DATA && frame.flags & 0x1).length >= MAX_STREAMS);
        connection.destroy();
        await sentinel(side);
        assert.equal(urls().filter((url) => url.startsWith('/hold/')).length, MAX_STREAMS);
      });

      it('refuses an invalid :authority (spaces, userinfo, empty) with 400 or a stream reset; nothing reaches the app', async () => {
        hostile.app.reset();
        for (const authority of ['tar get:8080', 'evil@target:8080', '']) {
          const answer = await withSession(side, (session) => ask(session, { ':path': '/bad-authority', ':authority': authority }));
          assert.ok(answer.status === 400 || (answer.status === undefined && answer.rstCode !== 0), `${JSON.stringify(authority)}: ${JSON.stringify(answer)}`);
        }
        await sentinel(side);
        assert.deepEqual(urls(), ['/sentinel']);
      });

      it(`refuses more than ${maxRequestHeaders(side)} headers with 431, and passes exactly that many`, async () => {
        hostile.app.reset();
        const limit = maxRequestHeaders(side);
        const fields = (count: number): OutgoingHttpHeaders => Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-h${i}`, 'v']));
        const over = await withSession(side, (session) => ask(session, { ':path': '/too-many', ':authority': hostile.host, ...fields(limit + 1) }));
        assert.equal(over.status, 431);
        const at = await withSession(side, (session) => ask(session, { ':path': '/many', ':authority': hostile.host, ...fields(limit) }));
        assert.equal(at.status, 200);
        await sentinel(side);
        assert.deepEqual(urls(), ['/many', '/sentinel']);
        assert.equal(hostile.app.requests[0]?.headers[`x-h${limit - 1}`], 'v', 'the last header arrived');
      });
    });
  }
});
