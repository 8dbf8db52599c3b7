#!/usr/bin/env node
// The demo application: an HTTP service that, for each request, calls its upstream services
// through its sidecar (plain HTTP to the sidecar's outbound port, upstream named in Host), and
// answers with who it is and what its upstreams said. Also the application the tests use.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { createLogger, logListening, parseHostPort, runMain, stopOnSignals } from '@weft/runtime';

const log = createLogger('demo-app');

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
    },
  });
  const { workload, service, version } = values;
  const sidecar = values.outbound ? new Pool(`http://${values.outbound}`, { pipelining: 1 }) : undefined;
  if (values.call.length > 0 && !sidecar) throw new Error('--call needs --outbound (the sidecar to call through)');

  async function callUpstream(host: string): Promise<UpstreamResult> {
    const response = await (sidecar as Pool).request({ path: '/', method: 'GET', headers: { host } });
    const text = await response.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: a proxy error message, kept as text
    }
    return { host, status: response.statusCode, body };
  }

  const server = createServer((request, response) => {
    request.resume();
    Promise.all(values.call.map(callUpstream)).then(
      (upstream) => {
        const failed = upstream.some((result) => result.status < 200 || result.status >= 300);
        response.writeHead(failed ? 502 : 200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ service, version, workload, path: request.url, upstream }));
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
    server.close();
    server.closeIdleConnections();
    await sidecar?.close();
  });
});
