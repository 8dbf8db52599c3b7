import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Completion } from '../http/exchange.ts';
import { newContext, type RequestContext } from '../http/handler.ts';
import type { RequestTelemetry } from '../observability/request-telemetry.ts';
import { Sampler } from './sampler.ts';
import type { FinishedSpan } from './span.ts';
import { Tracer, type SpanSink } from './tracer.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

class CollectingSink implements SpanSink {
  readonly spans: FinishedSpan[] = [];
  spansExported = 0;
  spansDropped = 0;
  exportFailures = 0;
  add(span: FinishedSpan): void {
    this.spans.push(span);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function completion(tracer: Tracer, headers: Record<string, string>, fill: (context: RequestContext) => void = () => undefined): Completion {
  const context = newContext('outbound');
  const { trace, recorded } = tracer.begin(headers);
  const telemetry: RequestTelemetry = {
    method: 'GET',
    authority: 'orders:8080',
    path: '/list',
    userAgent: 'curl/8',
    httpVersion: '1.1',
    callerSpiffeId: undefined,
    requestId: 'req-1',
    trace,
    recorded,
    startUnixNano: 1_700_000_000_000_000_000n,
    requestBytes: undefined,
    responseBytes: undefined,
  };
  context.telemetry = telemetry;
  fill(context);
  return { context, status: 200, flag: '', durationSeconds: 0.25 };
}

describe('Tracer', () => {
  it("continues the caller's trace: same trace id, the caller's span as parent, a new span id", () => {
    const begun = new Tracer(new Sampler(0), undefined).begin({ traceparent: `00-${TRACE}-${SPAN}-01` });
    assert.equal(begun.trace.traceId, TRACE);
    assert.equal(begun.trace.parentSpanId, SPAN);
    assert.notEqual(begun.trace.spanId, SPAN);
    assert.equal(begun.trace.sampled, true);
    assert.equal(begun.headers.traceparent, `00-${TRACE}-${begun.trace.spanId}-01`);
  });

  it('starts a trace when none came, with the sampler deciding', () => {
    const sampled = new Tracer(new Sampler(100), undefined).begin({});
    assert.equal(sampled.trace.parentSpanId, undefined);
    assert.equal(sampled.trace.sampled, true);
    assert.ok(sampled.headers['x-b3-traceid'], 'a new trace also goes out as B3');
    assert.equal(new Tracer(new Sampler(0), undefined).begin({}).trace.sampled, false);
  });

  it('records nothing without an exporter, but still propagates', () => {
    const begun = new Tracer(new Sampler(100), undefined).begin({});
    assert.equal(begun.recorded, false);
    assert.ok(begun.headers.traceparent);
  });

  it('records sampled spans only: a sampled parent beats 0%, an unsampled one beats 100%, B3 debug is sampled', () => {
    const sink = new CollectingSink();
    const none = new Tracer(new Sampler(0), sink);
    const all = new Tracer(new Sampler(100), sink);
    none.finish(completion(none, { traceparent: `00-${TRACE}-${SPAN}-01` }));
    all.finish(completion(all, { traceparent: `00-${TRACE}-${SPAN}-00` }));
    none.finish(completion(none, {}));
    none.finish(completion(none, { b3: `${TRACE}-${SPAN}-d` }));
    assert.equal(sink.spans.length, 2);
    assert.ok(sink.spans.every((span) => span.traceId === TRACE && span.parentSpanId === SPAN));
  });

  it('a span carries the semantic-convention and Weft attributes', () => {
    const sink = new CollectingSink();
    const tracer = new Tracer(new Sampler(100), sink);
    tracer.finish(
      completion(tracer, {}, (context) => {
        context.upstreamAddress = '10.0.0.7:15006';
        context.clusterName = 'outbound|8080||orders.default.svc.cluster.local';
        context.routeName = 'orders-default';
        context.upstreamPeer = 'spiffe://cluster.local/ns/default/sa/orders';
        context.attempt = 2;
      }),
    );
    const [span] = sink.spans;
    assert.ok(span);
    assert.equal(span.kind, 'CLIENT');
    assert.equal(span.name, 'GET orders');
    assert.equal(span.endUnixNano - span.startUnixNano, 250_000_000n);
    assert.equal(span.error, false);
    assert.deepEqual(span.attributes, {
      'http.request.method': 'GET',
      'url.path': '/list',
      'server.address': 'orders',
      'server.port': 8080,
      'weft.response_flags': '-',
      'weft.request_id': 'req-1',
      'http.response.status_code': 200,
      'network.protocol.version': '1.1',
      'user_agent.original': 'curl/8',
      'weft.peer.spiffe_id': 'spiffe://cluster.local/ns/default/sa/orders',
      'weft.upstream.address': '10.0.0.7:15006',
      'weft.upstream.cluster': 'outbound|8080||orders.default.svc.cluster.local',
      'weft.route.name': 'orders-default',
      'weft.upstream.attempts': 2,
    });
  });

  it('marks failures: a client span at 4xx, and any response flag, with error.type', () => {
    const sink = new CollectingSink();
    const tracer = new Tracer(new Sampler(100), sink);
    tracer.finish({ ...completion(tracer, {}), status: 404, flag: 'NR' });
    tracer.finish({ ...completion(tracer, {}), status: 429 });
    const [noRoute, limited] = sink.spans;
    assert.equal(noRoute?.error, true);
    assert.equal(noRoute?.attributes['error.type'], 'NR');
    assert.equal(noRoute?.attributes['weft.response_flags'], 'NR');
    assert.equal(limited?.attributes['error.type'], '429');
  });

  it('a server span fails only at 5xx, and reports the verified caller', () => {
    const sink = new CollectingSink();
    const tracer = new Tracer(new Sampler(100), sink);
    const inbound = (status: number): Completion => {
      const base = completion(tracer, {});
      const context = { ...base.context, direction: 'inbound' as const };
      context.telemetry = { ...(base.context.telemetry as RequestTelemetry), callerSpiffeId: 'spiffe://cluster.local/ns/default/sa/frontend' };
      return { ...base, context, status };
    };
    tracer.finish(inbound(404));
    tracer.finish(inbound(503));
    assert.deepEqual(
      sink.spans.map((span) => [span.kind, span.error, span.attributes['weft.peer.spiffe_id']]),
      [
        ['SERVER', false, 'spiffe://cluster.local/ns/default/sa/frontend'],
        ['SERVER', true, 'spiffe://cluster.local/ns/default/sa/frontend'],
      ],
    );
  });

  it('reports an unknown method as _OTHER with the original beside it', () => {
    const sink = new CollectingSink();
    const tracer = new Tracer(new Sampler(100), sink);
    const base = completion(tracer, {});
    base.context.telemetry = { ...(base.context.telemetry as RequestTelemetry), method: 'PURGE' };
    tracer.finish(base);
    assert.equal(sink.spans[0]?.attributes['http.request.method'], '_OTHER');
    assert.equal(sink.spans[0]?.attributes['http.request.method_original'], 'PURGE');
    assert.equal(sink.spans[0]?.name, 'HTTP orders');
  });
});
