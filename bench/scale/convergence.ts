// Control plane at scale: a mesh of SERVICES services with ENDPOINTS endpoints in all, and
// PROXIES simulated proxies that speak the real ADS protocol as on-demand proxies do (each names
// the CALLS services it calls, ACKs each response; they do not decode resources, so the figures
// are the control plane's). Every proxy calls svc-0 or svc-1 (half each: popular services) and 4
// others spread over the mesh. After every proxy has synced, two changes: an endpoint added to
// svc-0, a route added to svc-1. For each: time from the mesh file's change to each affected
// proxy receiving the new version (p50/p99), responses per affected proxy, and responses that
// went to proxies the change does not concern. Control plane RSS and CPU at the end.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { histogramQuantile, ManagedProcess, parsePrometheusText, PROGRAMS, toMeshFile, type MeshDocument, type Sample } from '@weft/cli';
import { DiscoveryRequest, onDemandResourceKinds, resourceKindOf, resourceKindsInPushOrder, ResourceType, streamResourcesMethod, type ResourceKind } from '@weft/proto';
import protobuf from 'protobufjs/minimal.js';
import { formatHostPort, pollUntil, type HostPort } from '@weft/runtime';
import { cpuSeconds, peakRssMegabytes, rssMegabytes } from '../pair/proc-stats.ts';
import { percentile } from '../pair/stats.ts';

const API_VERSION = 'mesh.weft.dev/v1alpha1';
/** Streams per gRPC channel: several channels, as proxies would each have their own. */
const STREAMS_PER_CHANNEL = 100;
/** Services each simulated proxy calls. */
const CALLS = 5;

export interface ConvergenceOptions {
  readonly services: number;
  readonly endpoints: number;
  readonly proxies: number;
  /** The control plane's V8 old-space limit in MB (--max-old-space-size); V8's default when undefined. */
  readonly cpHeapMb?: number;
}

export interface ChangeFigures {
  /** Proxies that call the changed service. */
  readonly affectedProxies: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Responses each affected proxy got for the change (mean). */
  readonly responsesPerProxy: number;
  /** Responses sent to proxies that do not call the changed service (0 when scoping works). */
  readonly responsesToOthers: number;
}

/** The control plane's own view of one change, from its metrics: parse and push apart. */
export interface ControlPlaneView {
  /** Registry change seen -> model built (the mesh file parsed and validated). */
  readonly modelBuildMs: number;
  /** Model published -> each proxy's ACK of the new endpoints (weft_controlplane_xds_push_latency_seconds). */
  readonly pushToAckP50Ms: number;
  readonly pushToAckP99Ms: number;
}

/** An endpoint churn storm: the mesh file rewritten every STORM_INTERVAL_MS, STORM_WRITES times. */
export interface StormFigures {
  readonly writes: number;
  readonly seconds: number;
  /** Endpoint responses each affected proxy got during the storm (mean): coalescing keeps it far below `writes`. */
  readonly endpointResponsesPerProxy: number;
  /** From the last write to every proxy holding its final endpoints. */
  readonly settleMs: number;
}

const STORM_WRITES = 200;
const STORM_INTERVAL_MS = 50;

export interface ConvergenceFigures extends ConvergenceOptions {
  readonly initialSyncMs: number;
  readonly storm: StormFigures;
  /** The control plane's largest RSS over the whole run (VmHWM). */
  readonly cpPeakRssMb: number;
  readonly endpointAddedInside: ControlPlaneView;
  readonly endpointAdded: ChangeFigures;
  readonly routeAdded: ChangeFigures;
  readonly cpRssMb: number;
  readonly cpCpuSeconds: number;
}

/** What a simulated proxy reads of a response: the envelope, skipping the resources undecoded. */
interface Envelope {
  versionInfo: string;
  typeUrl: string;
  nonce: string;
}

/** Reads fields 1 (version_info), 3 (type_url) and 4 (nonce) of a DiscoveryResponse; skips the rest. */
function readEnvelope(bytes: Buffer): Envelope {
  const reader = protobuf.Reader.create(bytes);
  const envelope: Envelope = { versionInfo: '', typeUrl: '', nonce: '' };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    if (field === 1) envelope.versionInfo = reader.string();
    else if (field === 3) envelope.typeUrl = reader.string();
    else if (field === 4) envelope.nonce = reader.string();
    else reader.skipType(tag & 7);
  }
  return envelope;
}

/** The services proxy `index` calls: svc-0 or svc-1, and CALLS - 1 others spread over the mesh. */
function callsOf(index: number, services: number): number[] {
  const called = new Set([index % 2]);
  for (let step = 1; called.size < Math.min(CALLS, services); step++) called.add((index * 7 + step * 131) % services);
  return [...called];
}

class SimulatedProxy {
  readonly id: string;
  readonly calls: ReadonlySet<number>;
  /** When each type's latest response arrived, and how many arrived since `mark()`. */
  readonly arrivals = new Map<ResourceKind, number>();
  readonly versions = new Map<ResourceKind, string>();
  responsesSinceMark = 0;
  endpointResponses = 0;
  private readonly stream: ClientDuplexStream<DiscoveryRequest, Envelope>;

  constructor(client: Client, workload: string, calls: readonly number[]) {
    this.id = `${workload}.default`;
    this.calls = new Set(calls);
    // What an on-demand proxy names: routes by the authority its app used, clusters and endpoints by cluster name.
    const names = (kind: ResourceKind): string[] => {
      if (kind === 'route') return calls.map((service) => `svc-${service}:8080`).sort();
      if (onDemandResourceKinds.has(kind)) return calls.map((service) => `outbound|8080||svc-${service}.default.svc.cluster.local`).sort();
      return [];
    };
    // Not decoding the resources keeps this process (1000 proxies on one core) from being the bottleneck.
    this.stream = client.makeBidiStreamRequest(streamResourcesMethod.path, streamResourcesMethod.requestSerialize, readEnvelope);
    this.stream.on('error', () => undefined);
    this.stream.on('data', (response: Envelope) => {
      const kind = resourceKindOf(response.typeUrl) as ResourceKind;
      this.arrivals.set(kind, performance.now());
      this.versions.set(kind, response.versionInfo);
      this.responsesSinceMark++;
      if (kind === 'endpoints') this.endpointResponses++;
      this.stream.write(DiscoveryRequest.create({ typeUrl: response.typeUrl, versionInfo: response.versionInfo, responseNonce: response.nonce, resourceNames: names(kind) }));
    });
    for (const [index, kind] of resourceKindsInPushOrder.entries()) {
      this.stream.write(DiscoveryRequest.create({ typeUrl: ResourceType[kind].typeUrl, node: index === 0 ? { workload, namespace: 'default', onDemand: true } : null, resourceNames: names(kind) }));
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

async function scrape(debug: HostPort): Promise<Sample[]> {
  const response = await fetch(`http://${formatHostPort(debug)}/metrics`);
  return parsePrometheusText(await response.text());
}

function sum(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)).reduce((total, sample) => total + sample.value, 0);
}

/** What the control plane measured between two scrapes, for the endpoints type. */
function controlPlaneView(before: readonly Sample[], after: readonly Sample[]): ControlPlaneView {
  const lagSum = sum(after, 'weft_controlplane_registry_update_lag_seconds_sum') - sum(before, 'weft_controlplane_registry_update_lag_seconds_sum');
  const lagCount = sum(after, 'weft_controlplane_registry_update_lag_seconds_count') - sum(before, 'weft_controlplane_registry_update_lag_seconds_count');
  const buckets = after
    .filter((sample) => sample.name === 'weft_controlplane_xds_push_latency_seconds_bucket' && sample.labels.type === 'endpoints')
    .map((sample) => {
      const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
      return { le, count: sample.value - sum(before, 'weft_controlplane_xds_push_latency_seconds_bucket', { type: 'endpoints', le: sample.labels.le ?? '' }) };
    });
  const ms = (seconds: number | undefined): number => Math.round((seconds ?? Number.NaN) * 1000);
  return { modelBuildMs: ms(lagCount > 0 ? lagSum / lagCount : undefined), pushToAckP50Ms: ms(histogramQuantile(0.5, buckets)), pushToAckP99Ms: ms(histogramQuantile(0.99, buckets)) };
}

async function writeMesh(file: string, docs: MeshDocument[] | string): Promise<void> {
  await writeFile(`${file}.tmp`, typeof docs === 'string' ? docs : toMeshFile(docs));
  await rename(`${file}.tmp`, file);
}

/** The endpoints version the control plane wants each proxy to hold now, by proxy id. */
async function currentEndpointsVersions(debug: HostPort): Promise<Map<string, string | undefined>> {
  const response = await fetch(`http://${formatHostPort(debug)}/debug/syncz`);
  const body = (await response.json()) as { proxies: { id: string; types: { endpoints?: { current?: string } } }[] };
  return new Map(body.proxies.map((proxy) => [proxy.id, proxy.types.endpoints?.current]));
}

/**
 * Endpoint churn: the file alternates between two meshes (an endpoint of svc-0 more or less)
 * every STORM_INTERVAL_MS; then the time until every proxy holds its final endpoints.
 */
async function storm(proxies: readonly SimulatedProxy[], meshFile: string, texts: readonly [string, string], debug: HostPort): Promise<StormFigures> {
  for (const proxy of proxies) proxy.endpointResponses = 0;
  const started = performance.now();
  for (let write = 0; write < STORM_WRITES; write++) {
    await writeMesh(meshFile, texts[write % 2] as string);
    await new Promise((resolve) => setTimeout(resolve, STORM_INTERVAL_MS));
  }
  const ended = performance.now();
  const affected = proxies.filter((proxy) => proxy.calls.has(0));
  const responses = affected.reduce((sum, proxy) => sum + proxy.endpointResponses, 0) / affected.length;
  await pollUntil('every proxy to hold its final endpoints', 120_000, async () => {
    const current = await currentEndpointsVersions(debug);
    return proxies.every((proxy) => proxy.versions.get('endpoints') === current.get(proxy.id)) ? true : undefined;
  }, 250);
  return { writes: STORM_WRITES, seconds: Number(((ended - started) / 1000).toFixed(1)), endpointResponsesPerProxy: Number(responses.toFixed(2)), settleMs: Math.round(performance.now() - ended) };
}

/** Time from `changedAt` to each affected proxy's arrival of `kind`, once every one has one after it. */
async function converge(proxies: readonly SimulatedProxy[], service: number, kind: ResourceKind, changedAt: number): Promise<ChangeFigures> {
  const affected = proxies.filter((proxy) => proxy.calls.has(service));
  await pollUntil(`every proxy calling svc-${service} to receive the new ${kind}`, 120_000, () => (affected.every((proxy) => (proxy.arrivals.get(kind) ?? 0) > changedAt) ? true : undefined), 20);
  const delays = affected.map((proxy) => (proxy.arrivals.get(kind) ?? 0) - changedAt).sort((a, b) => a - b);
  // Late halves of a make-before-break push, and any stray push to others, still count.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const round = (value: number): number => Math.round(value);
  return {
    affectedProxies: affected.length,
    p50Ms: round(percentile(delays, 0.5)),
    p99Ms: round(percentile(delays, 0.99)),
    maxMs: round(delays.at(-1) ?? 0),
    responsesPerProxy: Number((affected.reduce((sum, proxy) => sum + proxy.responsesSinceMark, 0) / affected.length).toFixed(2)),
    responsesToOthers: proxies.filter((proxy) => !proxy.calls.has(service)).reduce((sum, proxy) => sum + proxy.responsesSinceMark, 0),
  };
}

export async function measureConvergence(options: ConvergenceOptions): Promise<ConvergenceFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-convergence-'));
  const meshFile = join(dir, 'mesh.yaml');
  await writeMesh(meshFile, documents(options, []));
  const controlPlane = new ManagedProcess('controlplane', PROGRAMS.controlPlane, ['--registry', `file:${meshFile}`, '--xds-address', '127.0.0.1:0', '--debug-address', '127.0.0.1:0'], {
    env: { WEFT_LOG_LEVEL: 'warn', ...(options.cpHeapMb === undefined ? {} : { NODE_OPTIONS: `--max-old-space-size=${options.cpHeapMb}` }) },
  });
  const clients: Client[] = [];
  const proxies: SimulatedProxy[] = [];
  try {
    const xds = formatHostPort(await controlPlane.listening('xds'));
    const debug = await controlPlane.listening('debug');
    const started = performance.now();
    for (let index = 0; index < options.proxies; index++) {
      if (index % STREAMS_PER_CHANNEL === 0) clients.push(new Client(xds, credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 }));
      proxies.push(new SimulatedProxy(clients.at(-1) as Client, `svc-${index}-0`, callsOf(index, options.services)));
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
    const before = await scrape(debug);
    let changedAt = mark();
    await writeMesh(meshFile, documents(options, [added]));
    const endpointAdded = await converge(proxies, 0, 'endpoints', changedAt);
    const endpointAddedInside = controlPlaneView(before, await scrape(debug));

    const route: MeshDocument = { apiVersion: API_VERSION, kind: 'TrafficRoute', metadata: { name: 'svc-1', namespace: 'default' }, spec: { hosts: ['svc-1'], http: [{ timeout: '3s', route: [{ destination: { host: 'svc-1' } }] }] } };
    changedAt = mark();
    await writeMesh(meshFile, documents(options, [added, route]));
    const routeAdded = await converge(proxies, 1, 'route', changedAt);

    const churn = await storm(proxies, meshFile, [toMeshFile(documents(options, [route])), toMeshFile(documents(options, [added, route]))], debug);

    const pid = controlPlane.child.pid ?? 0;
    return {
      ...options,
      initialSyncMs,
      endpointAdded,
      endpointAddedInside,
      routeAdded,
      storm: churn,
      cpRssMb: Number(rssMegabytes(pid).toFixed(1)),
      cpPeakRssMb: Number(peakRssMegabytes(pid).toFixed(1)),
      cpCpuSeconds: Number(cpuSeconds(pid).toFixed(2)),
    };
  } finally {
    for (const proxy of proxies) proxy.close();
    for (const client of clients) client.close();
    await controlPlane.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
