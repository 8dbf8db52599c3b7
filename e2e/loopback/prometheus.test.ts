// A real Prometheus (Debian's package) scrapes two sidecars on loopback, and PromQL returns
// exactly the requests the test sent, split by response code — on the calling sidecar and, with
// the caller named from its mTLS identity and peer metadata, on the called one.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { LoopbackMesh } from '@weft/cli';
import { formatHostPort, type HostPort } from '@weft/runtime';
import { request } from 'undici';
import { httpGet, httpRequest, pollUntil, temporaryDirectory } from './helpers.ts';

const PROMETHEUS = '/usr/bin/prometheus';
const DASHBOARD = join(dirname(fileURLToPath(import.meta.url)), '../../docs/grafana/weft-golden-signals.json');

async function prometheusMissing(): Promise<string | undefined> {
  const probe = spawn(PROMETHEUS, ['--version'], { stdio: 'ignore' });
  const [outcome] = (await Promise.race([once(probe, 'exit'), once(probe, 'error')])) as [number | Error];
  return outcome === 0 ? undefined : `${PROMETHEUS} is not installed (apt-get install prometheus; .ci/run does)`;
}

/** A port free right now: Prometheus takes its listen address on the command line. */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

type Vector = Record<string, number>;

/** Sorted by key, so two vectors compare as JSON. */
function sorted(vector: Vector): Vector {
  return Object.fromEntries(Object.entries(vector).sort(([a], [b]) => a.localeCompare(b)));
}

function plus(a: Vector, b: Vector): Vector {
  const sum = { ...a };
  for (const [key, value] of Object.entries(b)) sum[key] = (sum[key] ?? 0) + value;
  return sorted(sum);
}

/** weft_requests_total{direction="outbound"} summed by response_code, from a sidecar's own scrape. */
function outboundByCode(text: string): Vector {
  const counts: Vector = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('weft_requests_total{') || !line.includes('direction="outbound"')) continue;
    const code = /response_code="(\d+)"/.exec(line)?.[1] ?? '';
    counts[code] = (counts[code] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sorted(counts);
}

/** Runs `query` and keys each sample by the values of `by`. */
async function promQuery(prometheus: HostPort, query: string, by: readonly string[]): Promise<Vector> {
  const response = await request(`http://${formatHostPort(prometheus)}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.body.json()) as { status: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] }; error?: string };
  if (body.status !== 'success' || !body.data) throw new Error(`query failed: ${body.error ?? response.statusCode}`);
  return sorted(Object.fromEntries(body.data.result.map(({ metric, value }) => [by.map((label) => metric[label] ?? '').join('/'), Number(value[1])])));
}

const skip = await prometheusMissing();
if (skip) process.stdout.write(`# skipped: ${skip}\n`);

describe('Prometheus scraping two sidecars', { skip }, () => {
  let mesh: LoopbackMesh;
  let removeDir: () => Promise<void>;
  let prometheus: ChildProcess | undefined;
  let prometheusAddress: HostPort;

  before(async () => {
    const dir = await temporaryDirectory('prometheus');
    removeDir = dir.remove;
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'client', app: false });
    await mesh.addWorkload({ name: 'orders-1', service: 'orders' });
    await mesh.writeMeshFile(mesh.documents([]));
    await pollUntil('the client sidecar to route to orders', 15_000, async () => ((await httpRequest(mesh.workload('client').outbound, 'GET', '/', { host: 'orders:8080' })).status === 200 ? true : undefined));

    const targets = ['client', 'orders-1'].map((name) => `'${formatHostPort(mesh.workload(name).stats)}'`);
    const config = join(dir.path, 'prometheus.yml');
    await writeFile(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: weft-sidecars\n    metrics_path: /stats/prometheus\n    static_configs:\n      - targets: [${targets.join(', ')}]\n`);
    prometheusAddress = { host: '127.0.0.1', port: await freePort() };
    prometheus = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir.path, 'tsdb')}`, `--web.listen-address=${formatHostPort(prometheusAddress)}`, '--log.level=warn'], { stdio: 'ignore' });
    await pollUntil('Prometheus to be ready', 20_000, async () => ((await httpGet(prometheusAddress, '/-/ready').catch(() => undefined))?.status === 200 ? true : undefined));
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGKILL');
      await once(prometheus, 'exit');
    }
    await mesh?.stop();
    await removeDir?.();
  });

  it('counts exactly the requests sent, by response code, on both sidecars', async () => {
    const client = mesh.workload('client').outbound;
    const send = async (count: number, host: string, expected: number): Promise<void> => {
      for (let i = 0; i < count; i++) assert.equal((await httpRequest(client, 'GET', '/', { host })).status, expected);
    };
    // The readiness probe above already sent some; count from a baseline.
    const outboundQuery = 'sum by (response_code) (weft_requests_total{direction="outbound"})';
    const inboundQuery = 'sum by (response_code, source_workload, source_principal, destination_service) (weft_requests_total{direction="inbound"})';
    const baseline = await pollUntil('Prometheus to have scraped what the client sidecar counted so far', 20_000, async () => {
      const scraped = await promQuery(prometheusAddress, outboundQuery, ['response_code']);
      const counted = outboundByCode((await httpGet(mesh.workload('client').stats, '/stats/prometheus')).text);
      return JSON.stringify(scraped) === JSON.stringify(counted) ? scraped : undefined;
    });

    await send(40, 'orders:8080', 200);
    await httpGet(mesh.workload('orders-1').appAddress as HostPort, '/__behave?status=503');
    await send(15, 'orders:8080', 503);
    await send(7, 'nowhere.example:8080', 404);

    const expectedOutbound = plus(baseline, { '200': 40, '503': 15, '404': 7 });
    let outbound: Vector = {};
    await pollUntil('Prometheus to see the outbound requests', 20_000, async () => {
      outbound = await promQuery(prometheusAddress, outboundQuery, ['response_code']);
      return JSON.stringify(outbound) === JSON.stringify(expectedOutbound) ? true : undefined;
    }).catch((error: unknown) => assert.fail(`${(error as Error).message}: got ${JSON.stringify(outbound)}, want ${JSON.stringify(expectedOutbound)}`));
    assert.deepEqual(outbound, expectedOutbound);

    const principal = (JSON.parse((await httpGet(mesh.workload('client').admin, '/config_dump')).text) as { certificate: { spiffeId: string } }).certificate.spiffeId;
    assert.match(principal, /^spiffe:\/\/[^/]+\/ns\/default\/sa\/client$/);
    const service = 'orders.default.svc.cluster.local';
    // Only answered requests reach the called sidecar: the baseline's 200s, then 40 + 15.
    const expectedInbound = { [`200/client/${principal}/${service}`]: (baseline['200'] ?? 0) + 40, [`503/client/${principal}/${service}`]: 15 };
    let inbound: Vector = {};
    await pollUntil('Prometheus to see the inbound requests', 20_000, async () => {
      inbound = await promQuery(prometheusAddress, inboundQuery, ['response_code', 'source_workload', 'source_principal', 'destination_service']);
      return JSON.stringify(inbound) === JSON.stringify(sorted(expectedInbound)) ? true : undefined;
    }).catch((error: unknown) => assert.fail(`${(error as Error).message}: got ${JSON.stringify(inbound)}, want ${JSON.stringify(expectedInbound)}`));

    // The duration histogram counts the same requests; bytes and state series are there.
    const durations = await promQuery(prometheusAddress, 'sum by (response_code) (weft_request_duration_seconds_count{direction="outbound"})', ['response_code']);
    assert.deepEqual(durations, expectedOutbound);
    const expiry = await promQuery(prometheusAddress, 'weft_certificate_expiration_timestamp_seconds', ['instance']);
    for (const value of Object.values(expiry)) assert.ok(value > Date.now() / 1000, 'certificates expire in the future');
    assert.equal(Object.keys(expiry).length, 2);
    const responseBytes = await promQuery(prometheusAddress, 'sum(weft_response_bytes_total{direction="inbound"})', []);
    assert.ok((responseBytes[''] ?? 0) > 0, 'response bytes counted');
    const configTypes = await promQuery(prometheusAddress, 'count by (type) (weft_config_version_info{instance=' + JSON.stringify(formatHostPort(mesh.workload('client').stats)) + '})', ['type']);
    assert.ok(configTypes.listener === 1 && configTypes.route === 1 && configTypes.cluster === 1, `config versions: ${JSON.stringify(configTypes)}`);
  });

  it('every query of the Grafana dashboard runs, and the golden signals have data', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        // Grafana's variables as "All" and its rate interval, as Grafana would send them.
        const query = expr.replaceAll('$__rate_interval', '1m').replaceAll('$namespace', '.*').replaceAll('$service', '.*');
        const run = (): Promise<Vector> => promQuery(prometheusAddress, query, ['destination_service']).catch((error: unknown) => assert.fail(`${panel.title}: ${expr}: ${(error as Error).message}`));
        await run();
        // rate() needs two samples of a series in its window: under load the next scrape may lag.
        if (/^(Traffic|Errors|Latency)/.test(panel.title)) await pollUntil(`data for "${panel.title}"`, 20_000, async () => (Object.keys(await run()).length > 0 ? true : undefined));
      }
    }
  });
});
