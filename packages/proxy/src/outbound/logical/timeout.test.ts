import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { ProxyError, ProxyErrorKind } from '../../errors.ts';
import { newContext, PLAINTEXT, type Handler, type ProxyRequest } from '../../http/handler.ts';
import { timeoutLayer } from './timeout.ts';

const request = (): ProxyRequest => ({ method: 'GET', path: '/', authority: 'a', headers: {}, body: null, signal: new AbortController().signal, connection: PLAINTEXT, remoteAddress: '127.0.0.1' });

/** An upstream that never answers, but gives up when its signal aborts (as undici does). */
const hangs: Handler = (req) =>
  new Promise((_resolve, reject) => {
    req.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });

describe('timeoutLayer', () => {
  it('answers UT when no response starts in time, and aborts the upstream', async () => {
    let upstreamSignal: AbortSignal | undefined;
    const handler = timeoutLayer(30)((req, ctx) => {
      upstreamSignal = req.signal;
      return hangs(req, ctx);
    });
    await assert.rejects(handler(request(), newContext('outbound')), (error: unknown) => error instanceof ProxyError && error.kind === ProxyErrorKind.UPSTREAM_TIMEOUT);
    assert.equal(upstreamSignal?.aborted, true);
  });

  it('cuts a response body that outlives the deadline', async () => {
    let upstreamSignal: AbortSignal | undefined;
    const body = new Readable({ read() {} });
    const handler = timeoutLayer(30)((req) => {
      upstreamSignal = req.signal;
      return Promise.resolve({ status: 200, headers: {}, body });
    });
    const response = await handler(request(), newContext('outbound'));
    assert.equal(response.status, 200);
    await new Promise((resolve) => upstreamSignal?.addEventListener('abort', resolve, { once: true }));
    assert.ok(upstreamSignal?.reason instanceof ProxyError);
  });

  it('leaves a quick response alone', async () => {
    const handler = timeoutLayer(1000)(() => Promise.resolve({ status: 204, headers: {}, body: Readable.from([]) }));
    const response = await handler(request(), newContext('outbound'));
    assert.equal(response.status, 204);
    response.body?.resume();
  });
});
