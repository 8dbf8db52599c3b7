// bench/scale: how a sidecar and the control plane grow with the mesh. For each mesh size
// (services, one endpoint each, all answered by one tiny app in this process), a control plane
// (file registry) and one sidecar start (once with --discovery on-demand, the default, once with all);
// the sidecar calls 5 of the services; we record the time
// from the sidecar's start to its first routed 200, the sidecar's and the control plane's RSS,
// and the control plane's CPU. Then the control plane's convergence with simulated proxies
// (convergence.ts). Usage: npm run bench:scale -- [--sizes 10,100,1000,5000]
// [--services 1000 --endpoints 10000 --proxies 1000] [--cp-heap-mb N: the control plane's
// --max-old-space-size, as deploy/k8s sets it]
import { once } from 'node:events';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EPHEMERAL_PROXY_LISTENERS, ManagedProcess, PROGRAMS, toMeshFile, type MeshDocument } from '@weft/cli';
import { formatHostPort, PROXY_NODE_OPTIONS, type HostPort } from '@weft/runtime';
import { describeMachine } from '../pair/machine.ts';
import { cpuSeconds, rssMegabytes } from '../pair/proc-stats.ts';
import { probe, waitFor200 } from '../pair/probe.ts';
import { table } from '../pair/report.ts';
import { updateLatest } from '../latest.ts';
import { measureConvergence, type ConvergenceFigures } from './convergence.ts';

const API_VERSION = 'mesh.weft.dev/v1alpha1';
const CALLED_SERVICES = 5;
const REQUESTS_PER_SERVICE = 200;

/** The sidecar's --discovery: on-demand (the default) and, for comparison, all. */
const DISCOVERY_MODES = ['on-demand', 'all'] as const;
type DiscoveryMode = (typeof DISCOVERY_MODES)[number];

interface SizeFigures {
  readonly services: number;
  readonly discovery: DiscoveryMode;
  /** Sidecar start to its first 200 through a route (certificate-less: config only). */
  readonly proxyStartToFirstRouteMs: number;
  readonly proxyRssMb: number;
  readonly controlPlaneRssMb: number;
  /** Control plane CPU from its start to the sidecar's first 200 (translation, push). */
  readonly controlPlaneCpuSeconds: number;
}

function progress(message: string): void {
  process.stderr.write(`bench:scale: ${message}\n`);
}

/** An HTTP server answering 200 to anything, on a raw socket (the cheapest app there is). */
async function startApp(): Promise<{ port: number; close: () => void }> {
  const body = 'ok\n';
  const response = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
  const server = createServer((socket) => {
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        pending = pending.slice(end + 4);
        socket.write(response);
      }
    });
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

function meshDocuments(services: number, appPort: number, clientInbound: HostPort): MeshDocument[] {
  const documents: MeshDocument[] = [
    {
      apiVersion: API_VERSION,
      kind: 'Workload',
      metadata: { name: 'client', namespace: 'default', labels: { app: 'client' } },
      spec: { address: '127.0.0.1', ports: [], serviceAccount: 'client', sidecar: { inbound: formatHostPort(clientInbound) } },
    },
  ];
  for (let index = 0; index < services; index++) {
    const name = `svc-${index}`;
    documents.push({
      apiVersion: API_VERSION,
      kind: 'Workload',
      metadata: { name: `${name}-1`, namespace: 'default', labels: { app: name } },
      spec: { service: name, address: '127.0.0.1', ports: [{ name: 'http', port: 8080, targetPort: appPort, protocol: 'HTTP' }], serviceAccount: name },
    });
  }
  return documents;
}

async function measureSize(services: number, discovery: DiscoveryMode, appPort: number, root: string): Promise<SizeFigures> {
  const dir = join(root, `${services}-${discovery}`);
  const meshFile = join(dir, 'mesh.yaml');
  await mkdir(dir, { recursive: true });
  await writeFile(meshFile, toMeshFile([]));
  const env = { WEFT_LOG_LEVEL: 'warn' };
  const controlPlane = new ManagedProcess('controlplane', PROGRAMS.controlPlane, ['--registry', `file:${meshFile}`, '--xds-address', '127.0.0.1:0', '--debug-address', '127.0.0.1:0'], { env });
  let proxy: ManagedProcess | undefined;
  try {
    const xds = await controlPlane.listening('xds');
    // The sidecar's inbound address must be in the mesh file, so it starts first, then the file.
    const startedAt = performance.now();
    proxy = new ManagedProcess('proxy', PROGRAMS.proxyBundle, ['--xds-address', formatHostPort(xds), '--workload', 'client', '--namespace', 'default', '--discovery', discovery, ...EPHEMERAL_PROXY_LISTENERS], { env: { ...env, NODE_OPTIONS: PROXY_NODE_OPTIONS } });
    const [outbound, inbound] = await Promise.all([proxy.listening('outbound'), proxy.listening('inbound')]);
    await writeFile(`${meshFile}.tmp`, toMeshFile(meshDocuments(services, appPort, inbound)));
    await rename(`${meshFile}.tmp`, meshFile);
    const last = `svc-${services - 1}:8080`;
    const running = proxy;
    await waitFor200(`${services} services`, outbound.port, last, 120_000, () => (running.running && controlPlane.running ? undefined : 'a process exited'));
    const proxyStartToFirstRouteMs = performance.now() - startedAt;
    const controlPlaneCpuSeconds = cpuSeconds(controlPlane.child.pid ?? 0);
    for (let index = 0; index < CALLED_SERVICES; index++) {
      for (let request = 0; request < REQUESTS_PER_SERVICE; request++) {
        const status = await probe(outbound.port, `svc-${index}:8080`);
        if (status !== 200) throw new Error(`svc-${index}: ${status}`);
      }
    }
    return {
      services,
      discovery,
      proxyStartToFirstRouteMs: Math.round(proxyStartToFirstRouteMs),
      proxyRssMb: Number(rssMegabytes(proxy.child.pid ?? 0).toFixed(1)),
      controlPlaneRssMb: Number(rssMegabytes(controlPlane.child.pid ?? 0).toFixed(1)),
      controlPlaneCpuSeconds: Number(controlPlaneCpuSeconds.toFixed(2)),
    };
  } finally {
    await proxy?.stop();
    await controlPlane.stop();
  }
}

function byServices(rows: readonly SizeFigures[], discovery: DiscoveryMode, value: (row: SizeFigures) => number): Record<string, number> {
  return Object.fromEntries(rows.filter((row) => row.discovery === discovery).map((row) => [String(row.services), value(row)]));
}

function convergenceReport(figures: ConvergenceFigures): string {
  const row = (change: string, values: ConvergenceFigures['endpointAdded']): string[] => [change, String(values.affectedProxies), String(values.p50Ms), String(values.p99Ms), String(values.maxMs), values.responsesPerProxy.toFixed(2), String(values.responsesToOthers)];
  return `control plane: ${figures.services} services, ${figures.endpoints} endpoints, ${figures.proxies} simulated on-demand proxies calling 5 services each (real ADS streams, ACK at once); initial sync of all proxies ${figures.initialSyncMs} ms; control plane RSS ${figures.cpRssMb} MB, CPU ${figures.cpCpuSeconds} s in all (V8 old space: ${figures.cpHeapMb === undefined ? 'default' : `${figures.cpHeapMb} MB`})\n\n${table(
    ['change (mesh file edited)', 'proxies calling it', 'to each of them p50 ms', 'p99 ms', 'max ms', 'responses per such proxy', 'responses to other proxies'],
    [row('endpoint added to svc-0', figures.endpointAdded), row('route added to svc-1', figures.routeAdded)],
  )}\n\nthe endpoint change as the control plane measured it: model built from the mesh file in ${figures.endpointAddedInside.modelBuildMs} ms (mean), then published model -> proxy ACK p50 ${figures.endpointAddedInside.pushToAckP50Ms} ms, p99 ${figures.endpointAddedInside.pushToAckP99Ms} ms\nendpoint churn storm: ${figures.storm.writes} mesh file writes in ${figures.storm.seconds} s (an endpoint added and removed): each proxy calling svc-0 got ${figures.storm.endpointResponsesPerProxy} endpoint responses during it, and every proxy held its final endpoints ${figures.storm.settleMs} ms after the last write; control plane peak RSS ${figures.cpPeakRssMb} MB\n`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { sizes: { type: 'string', default: '10,100,1000,5000' }, services: { type: 'string', default: '1000' }, endpoints: { type: 'string', default: '10000' }, proxies: { type: 'string', default: '1000' }, 'cp-heap-mb': { type: 'string' } },
  });
  const sizes = values.sizes.split(',').map(Number);
  if (sizes.some((size) => !Number.isInteger(size) || size < 5)) throw new Error(`--sizes: whole numbers of at least ${CALLED_SERVICES}, got "${values.sizes}"`);
  const scale = { services: Number(values.services), endpoints: Number(values.endpoints), proxies: Number(values.proxies) };
  for (const [name, value] of Object.entries(scale)) if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: a positive whole number, got ${value}`);
  if (scale.proxies > scale.services) throw new Error('--proxies: at most one simulated proxy per service');
  const cpHeapMb = values['cp-heap-mb'] === undefined ? undefined : Number(values['cp-heap-mb']);
  if (cpHeapMb !== undefined && (!Number.isInteger(cpHeapMb) || cpHeapMb < 64)) throw new Error(`--cp-heap-mb: a whole number of at least 64, got ${values['cp-heap-mb']}`);
  const app = await startApp();
  const root = await mkdtemp(join(tmpdir(), 'weft-scale-'));
  const results: SizeFigures[] = [];
  try {
    for (const size of sizes) {
      for (const discovery of DISCOVERY_MODES) {
        progress(`${size} services, --discovery ${discovery}`);
        results.push(await measureSize(size, discovery, app.port, root));
      }
    }
  } finally {
    app.close();
    await rm(root, { recursive: true, force: true });
  }
  progress(`control plane: ${scale.services} services, ${scale.endpoints} endpoints, ${scale.proxies} simulated proxies`);
  const convergence = await measureConvergence({ ...scale, cpHeapMb });
  process.stdout.write(
    `weft bench/scale — one sidecar calling ${CALLED_SERVICES} services (${REQUESTS_PER_SERVICE} requests each) in meshes of growing size\n\n${table(
      ['services', 'sidecar --discovery', 'sidecar start → first routed 200 ms', 'sidecar RSS MB', 'control plane RSS MB', 'control plane CPU s'],
      results.map((row) => [String(row.services), row.discovery, String(row.proxyStartToFirstRouteMs), row.proxyRssMb.toFixed(1), row.controlPlaneRssMb.toFixed(1), row.controlPlaneCpuSeconds.toFixed(2)]),
    )}\n`,
  );
  process.stdout.write(`\n${convergenceReport(convergence)}`);
  const latest = await updateLatest(
    'scale',
    {
      proxyRssMbByServices: byServices(results, 'on-demand', (row) => row.proxyRssMb),
      proxyRssMbByServicesWithDiscoveryAll: byServices(results, 'all', (row) => row.proxyRssMb),
      proxyStartToFirstRouteMsByServices: byServices(results, 'on-demand', (row) => row.proxyStartToFirstRouteMs),
      cpRssMbByServices: byServices(results, 'on-demand', (row) => row.controlPlaneRssMb),
      cpConvergenceMs: { p50: convergence.endpointAdded.p50Ms, p99: convergence.endpointAdded.p99Ms },
      cpRssMb: convergence.cpPeakRssMb,
      convergence,
    },
    describeMachine('not used'),
  );
  process.stdout.write(`\nsummary: ${latest}\n`);
  return 0;
}

process.exitCode = await main().catch((error: unknown) => {
  process.stderr.write(`bench:scale: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
});
