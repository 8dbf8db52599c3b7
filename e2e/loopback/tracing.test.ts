// Tracing through real sidecars: a request goes client → sidecar A (outbound) → sidecar B
// (inbound) → app B, which calls service C through sidecar B (outbound) → sidecar C (inbound)
// → app C, forwarding the trace headers it received. An OTLP/HTTP receiver in the test
// collects the spans. Also: sampling decisions carried along the path, and collectors that
// refuse or never answer, which must cost requests nothing.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { LoopbackMesh } from '@weft/cli';
import { formatHostPort, type HostPort } from '@weft/runtime';
import { httpGet, pollUntil, temporaryDirectory, type HttpResult } from './helpers.ts';

interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly kind: number;
  readonly name: string;
  readonly attributes: Record<string, string | number | boolean>;
}

const SERVER = 2;
const CLIENT = 3;

type AnyValue = { stringValue?: string; intValue?: string; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };
type ExportRequest = { resourceSpans: { resource: { attributes: KeyValue[] }; scopeSpans: { spans: (Omit<ReceivedSpan, 'service' | 'attributes'> & { attributes: KeyValue[] })[] }[] }[] };

function attributeMap(attributes: KeyValue[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes) out[key] = value.stringValue ?? value.boolValue ?? Number(value.intValue);
  return out;
}

/** An OTLP/HTTP JSON receiver on an ephemeral port. */
class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createHttpServer((incoming, response) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        assert.equal(incoming.headers['content-type'], 'application/json');
        const body = JSON.parse(Buffer.concat(chunks).toString()) as ExportRequest;
        for (const resourceSpans of body.resourceSpans) {
          const service = String(attributeMap(resourceSpans.resource.attributes)['service.name']);
          for (const scope of resourceSpans.scopeSpans) for (const span of scope.spans) this.spans.push({ ...span, service, attributes: attributeMap(span.attributes) });
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`;
  }

  /** The spans of the request with this x-request-id, once `count` have arrived. */
  spansOf(requestId: string, count: number): Promise<ReceivedSpan[]> {
    return pollUntil(`${count} spans of request ${requestId}`, 15_000, () => {
      const spans = this.spans.filter((span) => span.attributes['weft.request_id'] === requestId);
      return spans.length >= count ? spans : undefined;
    });
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

/** Accepts connections and never answers: a collector that hangs. */
async function blackhole(): Promise<{ endpoint: string; close: () => void }> {
  const sockets: Socket[] = [];
  const server = createTcpServer((socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

function counter(metrics: string, name: string): number {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics);
  return match ? Number(match[1]) : Number.NaN;
}

async function statsText(stats: HostPort): Promise<string> {
  const response = await request(`http://${formatHostPort(stats)}/stats/prometheus`);
  return response.body.text();
}

/** The headers app C received, from app B's JSON answer (the demo app echoes what it got). */
function headersSeenByC(result: HttpResult): Record<string, string> {
  const body = JSON.parse(result.text) as { upstream: { body: { headers: Record<string, string> } }[] };
  const seen = body.upstream[0]?.body.headers;
  assert.ok(seen, `no answer from c in ${result.text}`);
  return seen;
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';
const SA = (name: string): RegExp => new RegExp(`^spiffe://[^/]+/ns/default/sa/${name}$`);

describe('tracing across two hops of sidecars', () => {
  let mesh: LoopbackMesh;
  const receiver = new OtlpReceiver();
  const cleanups: (() => unknown)[] = [];

  before(async () => {
    const dir = await temporaryDirectory('tracing');
    cleanups.push(dir.remove);
    cleanups.push(() => receiver.close());
    const endpoint = await receiver.listen();
    const hung = await blackhole();
    cleanups.push(hung.close);
    const tracing = (collector: string, sampling: string, ...extra: string[]): string[] => ['--tracing-otlp-endpoint', collector, '--tracing-sampling', sampling, '--tracing-flush-interval-ms', '100', ...extra];
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'client-a', app: false, proxyArgs: tracing(endpoint, '100') });
    await mesh.addWorkload({ name: 'b', service: 'b', calls: ['c:8080'], proxyArgs: tracing(endpoint, '100') });
    await mesh.addWorkload({ name: 'c', service: 'c', proxyArgs: tracing(endpoint, '100') });
    await mesh.addWorkload({ name: 'client-zero', app: false, proxyArgs: tracing(endpoint, '0') });
    await mesh.addWorkload({ name: 'client-refused', app: false, proxyArgs: tracing(`http://127.0.0.1:${await closedPort()}/v1/traces`, '100') });
    await mesh.addWorkload({
      name: 'client-hung',
      app: false,
      proxyArgs: tracing(hung.endpoint, '100', '--tracing-max-queue', '4', '--tracing-max-batch', '2', '--tracing-export-timeout-ms', '1000'),
    });
    await mesh.writeMeshFile(mesh.documents());
    for (const client of ['client-a', 'client-zero']) {
      await pollUntil(`${client} -> b -> c`, 20_000, async () => ((await viaB(client)).status === 200 ? true : undefined));
    }
  });

  after(async () => {
    await mesh?.stop();
    for (const cleanup of cleanups) await cleanup();
  });

  function viaB(client: string, headers: Record<string, string> = {}): Promise<HttpResult> {
    return httpGet(mesh.workload(client).outbound, '/orders?token=abc', { host: 'b:8080', ...headers });
  }

  it('records one trace linked client A → server B → client B → server C, with attributes and peer identities', async () => {
    const result = await viaB('client-a', { 'x-request-id': 'chain-1', 'user-agent': 'tracing-test' });
    assert.equal(result.status, 200, result.text);
    const spans = await receiver.spansOf('chain-1', 4);
    assert.equal(spans.length, 4, JSON.stringify(spans, null, 1));
    const find = (service: string, kind: number): ReceivedSpan => {
      const span = spans.find((candidate) => candidate.service === service && candidate.kind === kind);
      assert.ok(span, `no ${kind === CLIENT ? 'client' : 'server'} span from ${service}`);
      return span;
    };
    const clientA = find('client-a', CLIENT);
    const serverB = find('b', SERVER);
    const clientB = find('b', CLIENT);
    const serverC = find('c', SERVER);

    assert.equal(new Set(spans.map((span) => span.traceId)).size, 1, 'one trace');
    assert.match(clientA.traceId, /^[0-9a-f]{32}$/);
    assert.equal(clientA.parentSpanId || undefined, undefined, 'the root: the request came without trace headers');
    assert.equal(serverB.parentSpanId, clientA.spanId);
    assert.equal(clientB.parentSpanId, serverB.spanId, 'app B forwarded the headers its sidecar gave it');
    assert.equal(serverC.parentSpanId, clientB.spanId);
    // App C was handed server C's span as its parent.
    assert.equal(headersSeenByC(result).traceparent, `00-${clientA.traceId}-${serverC.spanId}-01`);

    for (const span of spans) {
      assert.equal(span.attributes['http.request.method'], 'GET');
      assert.equal(span.attributes['http.response.status_code'], 200);
      assert.equal(span.attributes['weft.response_flags'], '-');
      const callToC = span === clientB || span === serverC;
      assert.equal(span.attributes['url.path'], callToC ? '/' : '/orders', 'the path, without its query');
      assert.ok(!JSON.stringify(span).includes('token=abc'), 'no query string in spans');
    }
    assert.equal(clientA.name, 'GET b');
    assert.equal(clientA.attributes['server.address'], 'b');
    assert.equal(clientA.attributes['server.port'], 8080);
    assert.equal(clientA.attributes['user_agent.original'], 'tracing-test');
    assert.equal(clientA.attributes['network.protocol.version'], '1.1');
    assert.equal(clientA.attributes['weft.upstream.cluster'], 'outbound|8080||b.default.svc.cluster.local');
    assert.equal(clientA.attributes['weft.upstream.address'], formatHostPort(mesh.workload('b').inbound));
    assert.ok(clientA.attributes['weft.route.name'], 'the route');
    // mTLS: outbound, the upstream's proven identity; inbound, the caller's.
    assert.match(String(clientA.attributes['weft.peer.spiffe_id']), SA('b'));
    assert.match(String(serverB.attributes['weft.peer.spiffe_id']), SA('client-a'));
    assert.match(String(clientB.attributes['weft.peer.spiffe_id']), SA('c'));
    assert.match(String(serverC.attributes['weft.peer.spiffe_id']), SA('b'));
    assert.equal(serverB.attributes['network.protocol.version'], '2', 'sidecar to sidecar is HTTP/2');
    assert.equal(serverB.attributes['weft.upstream.address'], `127.0.0.1:${mesh.workload('b').appAddress?.port}`);
  });

  it("continues an incoming traceparent: its trace id kept, its span the parent of client A's span", async () => {
    const result = await viaB('client-a', { 'x-request-id': 'continued-1', traceparent: `00-${TRACE}-${CALLER_SPAN}-01`, tracestate: 'vendor=opaque' });
    assert.equal(result.status, 200, result.text);
    const spans = await receiver.spansOf('continued-1', 4);
    assert.ok(spans.every((span) => span.traceId === TRACE));
    const clientA = spans.find((span) => span.service === 'client-a');
    assert.equal(clientA?.parentSpanId, CALLER_SPAN);
    const seen = headersSeenByC(result);
    assert.equal(seen.tracestate, 'vendor=opaque', 'tracestate passed along unchanged');
    assert.equal(seen['x-request-id'], 'continued-1');
    assert.equal(seen['x-b3-traceid'], undefined, 'a W3C caller gets W3C only');
  });

  it('a B3 caller keeps B3 (single header) and gains W3C, one trace throughout', async () => {
    const traceId64 = 'a3ce929d0e0e4736';
    const result = await viaB('client-a', { 'x-request-id': 'b3-1', b3: `${traceId64}-${CALLER_SPAN}-1` });
    assert.equal(result.status, 200, result.text);
    const spans = await receiver.spansOf('b3-1', 4);
    const traceId = `0000000000000000${traceId64}`;
    assert.ok(spans.every((span) => span.traceId === traceId));
    const serverC = spans.find((span) => span.service === 'c');
    const seen = headersSeenByC(result);
    assert.equal(seen.b3, `${traceId}-${serverC?.spanId}-1-${serverC?.parentSpanId}`);
    assert.equal(seen.traceparent, `00-${traceId}-${serverC?.spanId}-01`);
  });

  it('a new trace is written as W3C and B3 multi-header', async () => {
    const result = await viaB('client-a', { 'x-request-id': 'new-1' });
    const seen = headersSeenByC(result);
    const serverC = (await receiver.spansOf('new-1', 4)).find((span) => span.service === 'c');
    assert.equal(seen['x-b3-traceid'], serverC?.traceId);
    assert.equal(seen['x-b3-spanid'], serverC?.spanId);
    assert.equal(seen['x-b3-parentspanid'], serverC?.parentSpanId);
    assert.equal(seen['x-b3-sampled'], '1');
    assert.match(seen['x-request-id'] ?? '', /^new-1$/);
  });

  it("honours the caller's sampling decision at 0%: a sampled parent is recorded, an unsampled one and none are not", async () => {
    const unsampledTrace = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const unsampled = await viaB('client-zero', { 'x-request-id': 'zero-unsampled', traceparent: `00-${unsampledTrace}-${CALLER_SPAN}-00` });
    assert.equal(unsampled.status, 200, unsampled.text);
    assert.match(headersSeenByC(unsampled).traceparent ?? '', new RegExp(`^00-${unsampledTrace}-[0-9a-f]{16}-00$`), 'propagated, not sampled');
    const unparented = await viaB('client-zero', { 'x-request-id': 'zero-none' });
    assert.match(headersSeenByC(unparented).traceparent ?? '', /-00$/, 'the 0% decision travels with the trace');
    const sampled = await viaB('client-zero', { 'x-request-id': 'zero-sampled', traceparent: `00-${TRACE}-${CALLER_SPAN}-01` });
    assert.equal(sampled.status, 200);
    // Spans leave each sidecar in order: once the sampled request's are in, the others would be too.
    const spans = await receiver.spansOf('zero-sampled', 4);
    assert.deepEqual(spans.map((span) => span.service).sort(), ['b', 'b', 'c', 'client-zero']);
    const stray = receiver.spans.filter((span) => span.traceId === unsampledTrace || ['zero-unsampled', 'zero-none'].includes(String(span.attributes['weft.request_id'])));
    assert.deepEqual(stray, []);
  });

  it('a collector that refuses connections or never answers costs requests nothing; failures and drops are counted', async () => {
    await pollUntil('clients routed to c', 20_000, async () => {
      const answers = await Promise.all(['client-refused', 'client-hung'].map((client) => httpGet(mesh.workload(client).outbound, '/', { host: 'c:8080' })));
      return answers.every((answer) => answer.status === 200) ? true : undefined;
    });
    for (const client of ['client-refused', 'client-hung']) {
      const results = await Promise.all(Array.from({ length: 40 }, () => httpGet(mesh.workload(client).outbound, '/', { host: 'c:8080' })));
      assert.deepEqual(
        results.filter((result) => result.status !== 200),
        [],
        `${client}: every request succeeds`,
      );
    }
    await pollUntil('refused exports counted', 10_000, async () => (counter(await statsText(mesh.workload('client-refused').stats), 'weft_tracing_export_failures_total') >= 1 ? true : undefined));
    const hung = await pollUntil('a hung export timed out', 10_000, async () => {
      const text = await statsText(mesh.workload('client-hung').stats);
      return counter(text, 'weft_tracing_export_failures_total') >= 1 ? text : undefined;
    });
    assert.ok(counter(hung, 'weft_tracing_spans_dropped_total') > 0, `spans dropped while the export hung:\n${hung}`);
    assert.equal(counter(hung, 'weft_tracing_spans_exported_total'), 0);
  });
});
