// Control plane at scale: a mesh of SERVICES services with ENDPOINTS endpoints in all, and
// PROXIES simulated proxies that speak the real ADS protocol (subscribe to every type, ACK each
// response; they do not decode resources, so the figures are the control plane's). After every
// proxy has synced, two changes: an endpoint added to one service, a route added to another.
// For each: time from the mesh file's change to each proxy receiving the new version (p50/p99),
// and responses sent per proxy. Control plane RSS and CPU at the end.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { ManagedProcess, PROGRAMS, toMeshFile, type MeshDocument } from '@weft/cli';
import { DiscoveryRequest, resourceKindOf, resourceKindsInPushOrder, ResourceType, streamResourcesMethod, type DiscoveryResponse, type ResourceKind } from '@weft/proto';
import { formatHostPort, pollUntil } from '@weft/runtime';
import { cpuSeconds, rssMegabytes } from '../pair/proc-stats.ts';
import { percentile } from '../pair/stats.ts';

const API_VERSION = 'mesh.weft.dev/v1alpha1';
/** Streams per gRPC channel: several channels, as proxies would each have their own. */
const STREAMS_PER_CHANNEL = 100;

export interface ConvergenceOptions {
  readonly services: number;
  readonly endpoints: number;
  readonly proxies: number;
}

export interface ChangeFigures {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Responses each proxy got for the change (mean). */
  readonly responsesPerProxy: number;
}

export interface ConvergenceFigures extends ConvergenceOptions {
  readonly initialSyncMs: number;
  readonly endpointAdded: ChangeFigures;
  readonly routeAdded: ChangeFigures;
  readonly cpRssMb: number;
  readonly cpCpuSeconds: number;
}

class SimulatedProxy {
  /** When each type's latest response arrived, and how many arrived since `mark()`. */
  readonly arrivals = new Map<ResourceKind, number>();
  responsesSinceMark = 0;
  private readonly stream: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;

  constructor(client: Client, workload: string) {
    this.stream = client.makeBidiStreamRequest(streamResourcesMethod.path, streamResourcesMethod.requestSerialize, streamResourcesMethod.responseDeserialize);
    this.stream.on('error', () => undefined);
    this.stream.on('data', (response: DiscoveryResponse) => {
      const kind = resourceKindOf(response.typeUrl) as ResourceKind;
      this.arrivals.set(kind, performance.now());
      this.responsesSinceMark++;
      this.stream.write(DiscoveryRequest.create({ typeUrl: response.typeUrl, versionInfo: response.versionInfo, responseNonce: response.nonce }));
    });
    for (const [index, kind] of resourceKindsInPushOrder.entries()) {
      this.stream.write(DiscoveryRequest.create({ typeUrl: ResourceType[kind].typeUrl, node: index === 0 ? { workload, namespace: 'default' } : null }));
    }
  }

  close(): void {
    this.stream.cancel();
  }
}

function documents(options: ConvergenceOptions, extra: MeshDocument[]): MeshDocument[] {
  const perService = Math.max(1, Math.round(options.endpoints / options.services));
  const out: MeshDocument[] = [];
  let meshed = 0;
  for (let service = 0; service < options.services; service++) {
    for (let replica = 0; replica < perService; replica++) {
      const index = service * perService + replica;
      const sidecar = meshed < options.proxies && replica === 0;
      if (sidecar) meshed++;
      out.push({
        apiVersion: API_VERSION,
        kind: 'Workload',
        metadata: { name: `svc-${service}-${replica}`, namespace: 'default', labels: { app: `svc-${service}` } },
        spec: {
          service: `svc-${service}`,
          address: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
          ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }],
          serviceAccount: `svc-${service}`,
          ...(sidecar ? { sidecar: { inbound: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}:15006` } } : {}),
        },
      });
    }
  }
  return [...out, ...extra];
}

async function writeMesh(file: string, docs: MeshDocument[]): Promise<void> {
  await writeFile(`${file}.tmp`, toMeshFile(docs));
  await rename(`${file}.tmp`, file);
}

/** Time from `changedAt` to each proxy's arrival of `kind`, once every proxy has one after it. */
async function converge(proxies: readonly SimulatedProxy[], kind: ResourceKind, changedAt: number): Promise<ChangeFigures> {
  await pollUntil(`every proxy to receive the new ${kind}`, 120_000, () => (proxies.every((proxy) => (proxy.arrivals.get(kind) ?? 0) > changedAt) ? true : undefined), 20);
  const delays = proxies.map((proxy) => (proxy.arrivals.get(kind) ?? 0) - changedAt).sort((a, b) => a - b);
  // Late halves of a make-before-break push still count as responses for this change.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const round = (value: number): number => Math.round(value);
  return {
    p50Ms: round(percentile(delays, 0.5)),
    p99Ms: round(percentile(delays, 0.99)),
    maxMs: round(delays.at(-1) ?? 0),
    responsesPerProxy: Number((proxies.reduce((sum, proxy) => sum + proxy.responsesSinceMark, 0) / proxies.length).toFixed(2)),
  };
}

export async function measureConvergence(options: ConvergenceOptions): Promise<ConvergenceFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-convergence-'));
  const meshFile = join(dir, 'mesh.yaml');
  await writeMesh(meshFile, documents(options, []));
  const controlPlane = new ManagedProcess('controlplane', PROGRAMS.controlPlane, ['--registry', `file:${meshFile}`, '--xds-address', '127.0.0.1:0', '--debug-address', '127.0.0.1:0'], { env: { WEFT_LOG_LEVEL: 'warn' } });
  const clients: Client[] = [];
  const proxies: SimulatedProxy[] = [];
  try {
    const xds = formatHostPort(await controlPlane.listening('xds'));
    const started = performance.now();
    for (let index = 0; index < options.proxies; index++) {
      if (index % STREAMS_PER_CHANNEL === 0) clients.push(new Client(xds, credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 }));
      proxies.push(new SimulatedProxy(clients.at(-1) as Client, `svc-${index}-0`));
    }
    await pollUntil('every proxy to sync', 300_000, () => (proxies.every((proxy) => proxy.arrivals.size === resourceKindsInPushOrder.length) ? true : undefined), 50);
    const initialSyncMs = Math.round(performance.now() - started);

    const mark = (): number => {
      for (const proxy of proxies) proxy.responsesSinceMark = 0;
      return performance.now();
    };
    const added: MeshDocument = {
      apiVersion: API_VERSION,
      kind: 'Workload',
      metadata: { name: 'svc-0-extra', namespace: 'default', labels: { app: 'svc-0' } },
      spec: { service: 'svc-0', address: '10.255.0.1', ports: [{ name: 'http', port: 8080, protocol: 'HTTP' }], serviceAccount: 'svc-0' },
    };
    let changedAt = mark();
    await writeMesh(meshFile, documents(options, [added]));
    const endpointAdded = await converge(proxies, 'endpoints', changedAt);

    const route: MeshDocument = { apiVersion: API_VERSION, kind: 'TrafficRoute', metadata: { name: 'svc-1', namespace: 'default' }, spec: { hosts: ['svc-1'], http: [{ timeout: '3s', route: [{ destination: { host: 'svc-1' } }] }] } };
    changedAt = mark();
    await writeMesh(meshFile, documents(options, [added, route]));
    const routeAdded = await converge(proxies, 'route', changedAt);

    const pid = controlPlane.child.pid ?? 0;
    return { ...options, initialSyncMs, endpointAdded, routeAdded, cpRssMb: Number(rssMegabytes(pid).toFixed(1)), cpCpuSeconds: Number(cpuSeconds(pid).toFixed(2)) };
  } finally {
    for (const proxy of proxies) proxy.close();
    for (const client of clients) client.close();
    await controlPlane.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
