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
import { histogramQuantile, ManagedProcess, parsePrometheusText, PROGRAMS, toMeshFile, type MeshDocument, type Sample } from '@weft/cli';
import { DiscoveryRequest, resourceKindOf, resourceKindsInPushOrder, ResourceType, streamResourcesMethod, type ResourceKind } from '@weft/proto';
import protobuf from 'protobufjs/minimal.js';
import { formatHostPort, pollUntil, type HostPort } from '@weft/runtime';
import { cpuSeconds, peakRssMegabytes, rssMegabytes } from '../pair/proc-stats.ts';
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
  /** Endpoint responses each proxy got during the storm (mean): coalescing keeps it far below `writes`. */
  readonly endpointResponsesPerProxy: number;
  /** From the last write to every proxy holding the final endpoints. */
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

class SimulatedProxy {
  /** When each type's latest response arrived, and how many arrived since `mark()`. */
  readonly arrivals = new Map<ResourceKind, number>();
  readonly versions = new Map<ResourceKind, string>();
  responsesSinceMark = 0;
  endpointResponses = 0;
  private readonly stream: ClientDuplexStream<DiscoveryRequest, Envelope>;

  constructor(client: Client, workload: string) {
    // Not decoding the resources keeps this process (1000 proxies on one core) from being the bottleneck.
    this.stream = client.makeBidiStreamRequest(streamResourcesMethod.path, streamResourcesMethod.requestSerialize, readEnvelope);
    this.stream.on('error', () => undefined);
    this.stream.on('data', (response: Envelope) => {
      const kind = resourceKindOf(response.typeUrl) as ResourceKind;
      this.arrivals.set(kind, performance.now());
      this.versions.set(kind, response.versionInfo);
      this.responsesSinceMark++;
      if (kind === 'endpoints') this.endpointResponses++;
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

/** The endpoints version the control plane wants every proxy to hold now (they all share it). */
async function currentEndpointsVersion(debug: HostPort): Promise<string | undefined> {
  const response = await fetch(`http://${formatHostPort(debug)}/debug/syncz`);
  const body = (await response.json()) as { proxies: { types: { endpoints?: { current?: string } } }[] };
  return body.proxies[0]?.types.endpoints?.current;
}

/**
 * Endpoint churn: the file alternates between two meshes (one endpoint more or less) every
 * STORM_INTERVAL_MS; then the time until every proxy holds the final endpoints.
 */
async function storm(proxies: readonly SimulatedProxy[], meshFile: string, texts: readonly [string, string], debug: HostPort): Promise<StormFigures> {
  for (const proxy of proxies) proxy.endpointResponses = 0;
  const started = performance.now();
  for (let write = 0; write < STORM_WRITES; write++) {
    await writeMesh(meshFile, texts[write % 2] as string);
    await new Promise((resolve) => setTimeout(resolve, STORM_INTERVAL_MS));
  }
  const ended = performance.now();
  const responses = proxies.reduce((sum, proxy) => sum + proxy.endpointResponses, 0) / proxies.length;
  await pollUntil('every proxy to hold the final endpoints', 120_000, async () => {
    const current = await currentEndpointsVersion(debug);
    return current !== undefined && proxies.every((proxy) => proxy.versions.get('endpoints') === current) ? true : undefined;
  }, 100);
  return { writes: STORM_WRITES, seconds: Number(((ended - started) / 1000).toFixed(1)), endpointResponsesPerProxy: Number(responses.toFixed(2)), settleMs: Math.round(performance.now() - ended) };
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
    const debug = await controlPlane.listening('debug');
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
    const before = await scrape(debug);
    let changedAt = mark();
    await writeMesh(meshFile, documents(options, [added]));
    const endpointAdded = await converge(proxies, 'endpoints', changedAt);
    const endpointAddedInside = controlPlaneView(before, await scrape(debug));

    const route: MeshDocument = { apiVersion: API_VERSION, kind: 'TrafficRoute', metadata: { name: 'svc-1', namespace: 'default' }, spec: { hosts: ['svc-1'], http: [{ timeout: '3s', route: [{ destination: { host: 'svc-1' } }] }] } };
    changedAt = mark();
    await writeMesh(meshFile, documents(options, [added, route]));
    const routeAdded = await converge(proxies, 'route', changedAt);

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
