#!/usr/bin/env node
// The demo application: an HTTP service that, for each request, calls its upstream services
// through its sidecar (plain HTTP to the sidecar's outbound port, upstream named in Host), and
// answers with who it is and what its upstreams said. Also the application the tests use, so
// it can misbehave on request (--fail-rate, --status, --delay-ms, or at run time through
// /__behave, which can also make it drop the connection after reading a request, as a crash
// mid-request would) and reports what it saw on /__stats (requests, methods, concurrency,
// hosts, arrival times).
// Like any meshed application it forwards the trace headers it received on the calls it makes,
// so its sidecars' spans join one trace.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { createLogger, logListening, parseHostPort, runMain, stopOnSignals } from '@weft/runtime';

const log = createLogger('demo-app');

/** What an application must copy from a request to the calls it makes for that request (docs/observability.md). */
const TRACE_HEADERS = ['traceparent', 'tracestate', 'b3', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'x-request-id'];

interface UpstreamResult {
  readonly host: string;
  readonly status: number;
  readonly body: unknown;
}

runMain(log, async () => {
  const { values } = parseArgs({
    options: {
      workload: { type: 'string', default: 'app' },
      service: { type: 'string', default: 'app' },
      version: { type: 'string', default: 'v1' },
      listen: { type: 'string', default: '127.0.0.1:0' },
      outbound: { type: 'string' },
      call: { type: 'string', multiple: true, default: [] },
      status: { type: 'string', default: '200' },
      'fail-rate': { type: 'string', default: '0' },
      'delay-ms': { type: 'string', default: '0' },
    },
  });
  const behaviour = { status: Number(values.status), failRate: Number(values['fail-rate']), delayMs: Number(values['delay-ms']), reset: 0 };
  const stats = { requests: 0, concurrent: 0, maxConcurrent: 0, methods: {} as Record<string, number>, hosts: {} as Record<string, number>, arrivals: [] as number[] };
  const { workload, service, version } = values;
  const sidecar = values.outbound ? new Pool(`http://${values.outbound}`, { pipelining: 1 }) : undefined;
  if (values.call.length > 0 && !sidecar) throw new Error('--call needs --outbound (the sidecar to call through)');

  async function callUpstream(host: string, incoming: IncomingHttpHeaders): Promise<UpstreamResult> {
    const headers: Record<string, string> = { host };
    for (const name of TRACE_HEADERS) {
      const value = incoming[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const response = await (sidecar as Pool).request({ path: '/', method: 'GET', headers });
    const text = await response.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: a proxy error message, kept as text
    }
    return { host, status: response.statusCode, body };
  }

  function control(url: URL): unknown {
    if (url.pathname === '/__behave') {
      for (const key of ['status', 'failRate', 'delayMs', 'reset'] as const) {
        const value = url.searchParams.get(key);
        if (value !== null) behaviour[key] = Number(value);
      }
      return behaviour;
    }
    return stats;
  }

  let stopping = false;
  const server = createServer((request, response) => {
    // Stopping: each connection closes after its response, so the server can finish.
    if (stopping) response.setHeader('connection', 'close');
    request.resume();
    const url = new URL(request.url ?? '/', 'http://app');
    if (url.pathname === '/__stats' || url.pathname === '/__behave') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(control(url)));
      return;
    }
    stats.requests++;
    stats.concurrent++;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, stats.concurrent);
    const method = request.method ?? '';
    stats.methods[method] = (stats.methods[method] ?? 0) + 1;
    const host = request.headers.host ?? '';
    stats.hosts[host] = (stats.hosts[host] ?? 0) + 1;
    if (stats.arrivals.length < 100_000) stats.arrivals.push(Date.now());
    response.once('close', () => stats.concurrent--);
    if (behaviour.reset) {
      // The whole request (body included) was received, maybe acted on; no answer ever comes.
      request.once('end', () => request.socket.destroy());
      return;
    }
    const failing = behaviour.status >= 400 || Math.random() < behaviour.failRate;
    const status = behaviour.status >= 400 ? behaviour.status : 503;
    const work = behaviour.delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, behaviour.delayMs)) : Promise.resolve();
    work.then(() => (failing ? [] : Promise.all(values.call.map((upstream) => callUpstream(upstream, request.headers))))).then(
      (upstream) => {
        const failed = failing || upstream.some((result) => result.status < 200 || result.status >= 300);
        response.writeHead(failing ? status : failed ? 502 : 200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ service, version, workload, path: request.url, headers: request.headers, upstream }));
      },
      (error: unknown) => {
        response.writeHead(502, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ service, version, workload, error: String(error) }));
      },
    );
  });
  const address = parseHostPort(values.listen, '--listen');
  await new Promise<void>((resolve) => server.listen(address.port, address.host, resolve));
  logListening(log, 'app', { host: address.host, port: (server.address() as AddressInfo).port });
  stopOnSignals(log, async () => {
    // Requests in flight finish, their calls out included; idle connections close now.
    stopping = true;
    const closed = new Promise((resolve) => server.close(resolve));
    server.closeIdleConnections();
    await closed;
    await sidecar?.close();
  });
});
