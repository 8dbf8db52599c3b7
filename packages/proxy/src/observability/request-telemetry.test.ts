import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newContext, type Handler, type ProxyRequest } from '../http/handler.ts';
import { Sampler } from '../tracing/sampler.ts';
import { Tracer } from '../tracing/tracer.ts';
import { telemetryLayer } from './request-telemetry.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const PEER = { spiffeId: 'spiffe://cluster.local/ns/default/sa/frontend', trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'frontend' };

function request(headers: Record<string, string> = {}, path = '/orders?token=abc'): ProxyRequest {
  return { method: 'POST', path, authority: 'orders:8080', headers, body: null, signal: new AbortController().signal, connection: { mtls: true, peer: PEER }, remoteAddress: '127.0.0.1', httpVersion: '2' };
}

/** Runs `incoming` through the layer; returns what the next handler got, and the context. */
async function through(incoming: ProxyRequest, responseHeaders: Record<string, string> = {}) {
  let forwarded: ProxyRequest | undefined;
  const next: Handler = (sent) => {
    forwarded = sent;
    return Promise.resolve({ status: 200, headers: responseHeaders, body: null });
  };
  const context = newContext('inbound');
  await telemetryLayer(new Tracer(new Sampler(100), undefined))(next)(incoming, context);
  assert.ok(forwarded);
  return { forwarded, context };
}

describe('telemetryLayer', () => {
  it('gives a request without x-request-id a UUID, keeps a sane one, replaces an unreasonable one', async () => {
    const generated = (await through(request())).forwarded.headers['x-request-id'];
    assert.match(String(generated), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal((await through(request({ 'x-request-id': 'abc-123' }))).forwarded.headers['x-request-id'], 'abc-123');
    for (const bad of ['x'.repeat(200), 'has space', '']) assert.notEqual((await through(request({ 'x-request-id': bad }))).forwarded.headers['x-request-id'], bad);
  });

  it("passes on the caller's trace with this hop's span as parent, replacing every stale trace header", async () => {
    const { forwarded, context } = await through(request({ traceparent: `00-${TRACE}-${SPAN}-01`, 'x-b3-parentspanid': 'ffffffffffffffff', accept: '*/*' }));
    const hop = context.telemetry?.trace;
    assert.ok(hop);
    assert.equal(hop.traceId, TRACE);
    assert.equal(hop.parentSpanId, SPAN);
    assert.equal(forwarded.headers.traceparent, `00-${TRACE}-${hop.spanId}-01`);
    assert.equal(forwarded.headers['x-b3-traceid'], TRACE, 'the caller used B3 multi too');
    assert.equal(forwarded.headers['x-b3-parentspanid'], SPAN);
    assert.equal(forwarded.headers.accept, '*/*');
  });

  it('records what spans and logs report, the path without its query, and leaves the request itself alone', async () => {
    const incoming = request({ 'user-agent': 'curl/8', 'content-length': '12' });
    const { context } = await through(incoming, { 'content-length': '34' });
    const telemetry = context.telemetry;
    assert.ok(telemetry);
    assert.deepEqual(
      { ...telemetry, trace: undefined, requestId: undefined, startUnixNano: undefined },
      { method: 'POST', authority: 'orders:8080', path: '/orders', userAgent: 'curl/8', httpVersion: '2', callerSpiffeId: PEER.spiffeId, recorded: false, requestBytes: 12, responseBytes: 34, trace: undefined, requestId: undefined, startUnixNano: undefined },
    );
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    assert.ok(telemetry.startUnixNano <= nowNs + 1_000_000n && telemetry.startUnixNano > nowNs - 60_000_000_000n, 'a wall-clock start');
    assert.deepEqual(incoming.headers, { 'user-agent': 'curl/8', 'content-length': '12' });
  });
});
