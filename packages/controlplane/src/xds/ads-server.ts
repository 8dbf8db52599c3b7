// The aggregated discovery stream, server side (state-of-the-world semantics of Envoy's xDS):
// one ProxyStream per connected proxy tracks, per resource type, what was sent, what the proxy
// acknowledged, and what it rejected. A rejected (NACKed) version is not sent again; the next
// different snapshot is. A proxy that reconnects holding the current version is sent nothing.
import { hostname } from 'node:os';
import type { ServerDuplexStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { EncodedDiscoveryResponse, onDemandResourceKinds, resourceKindOf, type DiscoveryRequest, type DiscoveryResponse, type ResourceKind } from '@weft/proto';
import type { Logger } from 'pino';
import type { XdsMetrics } from '../metrics/controlplane-metrics.ts';
import { planPush } from './push-plan.ts';
import { PushWindow } from './push-window.ts';
import type { ProxySnapshot, ResourceSet } from './snapshot.ts';

export interface SnapshotSource {
  snapshotFor(workload: string, namespace: string): ProxySnapshot;
}

export interface Rejection {
  readonly version: string;
  readonly nonce: string;
  readonly message: string;
  readonly at: string;
  /** The version the proxy keeps in force instead ("" when it holds none). */
  readonly keeps: string;
}

interface TypeState {
  resourceNames: readonly string[];
  sent: { readonly set: ResourceSet; readonly nonce: string } | undefined;
  acked: string | undefined;
  rejection: Rejection | undefined;
  /** When the registry change behind the response awaiting an answer was seen (performance.now()). */
  changedAt: number | undefined;
  /** Names by which the proxy asks for resources one by one (Node.on_demand); else wildcard. */
  readonly onDemand: boolean;
  /** An on-demand subscription changed: the next push answers it even if the set did not change. */
  unanswered: boolean;
}

/** One resource type of one proxy: what was sent, acknowledged, rejected, and what is current. */
export interface TypeStatus {
  readonly sent: string | undefined;
  readonly acked: string | undefined;
  /** The version of the current snapshot for this proxy; equal to acked when the proxy is in sync. */
  readonly current: string | undefined;
  readonly rejection: Rejection | undefined;
}

export interface ProxyStatus {
  readonly id: string;
  readonly workload: string;
  readonly namespace: string;
  readonly proxyVersion: string;
  /** Where the proxy says its admin endpoint listens ("" when it did not say). */
  readonly adminAddress: string;
  readonly connectedAt: string;
  readonly types: Readonly<Partial<Record<ResourceKind, TypeStatus>>>;
}

export interface AdsEvents {
  onNack?(proxy: string, kind: ResourceKind, rejection: Rejection): void;
  onAck?(proxy: string, kind: ResourceKind, version: string): void;
}

/** Tag, length and up to 16 digits: what the nonce adds to a shared encoding. */
const NONCE_FIELD_MAX_BYTES = 18;
/** Tag and length of each resource_names entry an on-demand response carries. */
const NAME_FIELD_OVERHEAD_BYTES = 6;

type Call = ServerDuplexStream<DiscoveryRequest, DiscoveryResponse | EncodedDiscoveryResponse>;

/**
 * Decides whether the caller of a stream may speak for `node`; returns why not, or undefined.
 * On the TLS port this ties the node's claim to the caller's certificate.
 */
export type NodeCheck = (call: Call, node: NonNullable<DiscoveryRequest['node']>) => { code: GrpcStatus; message: string } | undefined;

class ProxyStream {
  readonly id: string;
  readonly workload: string;
  readonly namespace: string;
  readonly proxyVersion: string;
  readonly adminAddress: string;
  readonly onDemand: boolean;
  readonly connectedAt = new Date().toISOString();
  private readonly types = new Map<ResourceKind, TypeState>();
  private nonce = 0;
  private readonly call: Call;
  private readonly server: AdsServer;
  /** The snapshot of the source last asked (and measured): once per proxy per model. */
  private built: { readonly source: SnapshotSource; readonly snapshot: ProxySnapshot } | undefined;
  /** Bytes written to this proxy's stream that its transport has not taken yet. */
  private unflushedBytes = 0;
  /** Set while a push waits for room in the push window: the change it carries. */
  private waitingSince: { changedAt: number | undefined } | undefined;
  private closed = false;
  private readonly resume = (): void => {
    const waited = this.waitingSince;
    this.waitingSince = undefined;
    this.push(waited?.changedAt);
  };

  constructor(call: Call, server: AdsServer, node: NonNullable<DiscoveryRequest['node']>) {
    this.call = call;
    this.server = server;
    this.workload = node.workload ?? '';
    this.namespace = node.namespace || 'default';
    this.id = node.id || `${this.workload}.${this.namespace}`;
    this.proxyVersion = node.proxyVersion ?? '';
    this.adminAddress = node.adminAddress ?? '';
    this.onDemand = node.onDemand ?? false;
  }

  /** What `state`'s subscription should hold of `snapshot`. */
  private target(snapshot: ProxySnapshot, kind: ResourceKind, state: TypeState): ResourceSet {
    return state.onDemand ? snapshot[kind].named(state.resourceNames) : snapshot[kind].only(state.resourceNames);
  }

  /** This proxy's snapshot of the current source, built once per source. */
  private snapshot(): ProxySnapshot | undefined {
    const source = this.server.source;
    if (!source) return undefined;
    if (this.built?.source !== source) {
      const snapshot = source.snapshotFor(this.workload, this.namespace);
      this.built = { source, snapshot };
      this.server.metrics?.snapshotBuilt(Object.values(snapshot).reduce((bytes, set) => bytes + set.bytes, 0));
    }
    return this.built.snapshot;
  }

  handle(request: DiscoveryRequest): void {
    const kind = resourceKindOf(request.typeUrl);
    if (!kind) {
      this.server.log.warn({ proxy: this.id, typeUrl: request.typeUrl }, 'proxy asked for an unknown resource type; ignored');
      return;
    }
    const state = this.types.get(kind);
    if (!state) {
      this.subscribe(kind, request);
      return;
    }
    if (request.responseNonce !== (state.sent?.nonce ?? '')) {
      // Answers a superseded response: not an ACK, but an on-demand proxy's names are current.
      if (state.onDemand) this.rename(state, request.resourceNames);
      return;
    }
    if (request.errorDetail) {
      const rejection = { version: state.sent?.set.version ?? '', nonce: request.responseNonce, message: request.errorDetail.message || `rejected with code ${request.errorDetail.code ?? 0}`, at: new Date().toISOString(), keeps: request.versionInfo };
      state.rejection = rejection;
      this.server.log.warn({ proxy: this.id, type: kind, version: rejection.version, error: rejection.message, keeps: rejection.keeps || null }, 'proxy rejected configuration');
      this.server.events.onNack?.(this.id, kind, rejection);
      this.server.metrics?.nacked(kind);
    } else if (state.sent) {
      state.acked = state.sent.set.version;
      state.rejection = undefined;
      this.server.events.onAck?.(this.id, kind, state.acked);
      if (state.changedAt !== undefined) this.server.metrics?.converged(kind, state.changedAt);
    }
    state.changedAt = undefined;
    this.rename(state, request.resourceNames);
  }

  private rename(state: TypeState, names: readonly string[]): void {
    if (sameNames(state.resourceNames, names)) return;
    state.resourceNames = [...names];
    state.unanswered = state.onDemand;
    this.server.log.debug({ proxy: this.id, names: names.length }, 'subscription changed');
    this.push();
  }

  private subscribe(kind: ResourceKind, request: DiscoveryRequest): void {
    const onDemand = this.onDemand && onDemandResourceKinds.has(kind);
    const state: TypeState = { resourceNames: [...request.resourceNames], sent: undefined, acked: undefined, rejection: undefined, changedAt: undefined, onDemand, unanswered: onDemand };
    this.types.set(kind, state);
    const snapshot = this.snapshot();
    const current = snapshot && this.target(snapshot, kind, state);
    // An on-demand subscription is always answered: the proxy waits to learn what exists.
    if (!onDemand && current && request.versionInfo !== '' && request.versionInfo === current.version) {
      // A reconnecting proxy already holds this version: resume without re-sending it.
      state.sent = { set: current, nonce: '' };
      state.acked = current.version;
      return;
    }
    this.push();
  }

  /**
   * Sends what differs from the current snapshot, in make-before-break order, as far as the push
   * window allows; the rest waits and is recomputed (against the newest snapshot) on resume.
   * `changedAt`: when the registry change behind this push was seen, if one was.
   */
  push(changedAt?: number): void {
    if (this.closed) return;
    if (this.waitingSince) {
      // Already waiting: the resumed push will send the newest snapshot; keep the oldest change.
      this.waitingSince.changedAt ??= changedAt;
      return;
    }
    const snapshot = this.snapshot();
    if (!snapshot) return;
    const sent = new Map<ResourceKind, ResourceSet | undefined>();
    const target = new Map<ResourceKind, ResourceSet>();
    for (const [kind, state] of this.types) {
      sent.set(kind, state.unanswered ? undefined : state.sent?.set);
      target.set(kind, this.target(snapshot, kind, state));
    }
    for (const { kind, set } of planPush(sent, target)) {
      if (!this.send(kind, set, changedAt)) {
        this.waitingSince = { changedAt };
        this.server.window.wait(this.resume);
        return;
      }
    }
  }

  /** Writes one response if the push window has room for it; false when it has not. */
  private send(kind: ResourceKind, set: ResourceSet, changedAt: number | undefined): boolean {
    const state = this.types.get(kind) as TypeState;
    const shared = set.responseEncoding(this.server.instance);
    const answers = state.onDemand ? state.resourceNames : [];
    // Reserved before the response is put together: a push that must wait copies nothing.
    const bytes = shared.byteLength + NONCE_FIELD_MAX_BYTES + answers.reduce((sum, name) => sum + Buffer.byteLength(name) + NAME_FIELD_OVERHEAD_BYTES, 0);
    if (!this.server.window.tryReserve(bytes)) {
      this.server.log.debug({ proxy: this.id, type: kind, bytes, inFlight: this.server.window.inFlight }, 'push waits for room in the push window');
      return false;
    }
    const nonce = String(++this.nonce);
    const response = new EncodedDiscoveryResponse(shared, nonce, answers);
    state.sent = { set, nonce };
    state.unanswered = false;
    state.changedAt = changedAt;
    this.server.metrics?.pushed(kind);
    this.server.log.debug({ proxy: this.id, type: kind, version: set.version, nonce, answers: answers.length }, 'pushed');
    this.unflushedBytes += bytes;
    // Called once the transport has taken the message (HTTP/2 flow control included).
    this.call.write(response, () => this.flushed(bytes));
    return true;
  }

  private flushed(bytes: number): void {
    if (this.closed) return;
    this.unflushedBytes -= bytes;
    this.server.window.release(bytes);
  }

  /** The stream ended: its share of the window goes back, and it no longer waits. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.window.cancel(this.resume);
    this.server.window.release(this.unflushedBytes);
    this.unflushedBytes = 0;
  }

  status(): ProxyStatus {
    const snapshot = this.snapshot();
    const types: Partial<Record<ResourceKind, TypeStatus>> = {};
    for (const [kind, state] of this.types) {
      types[kind] = { sent: state.sent?.set.version, acked: state.acked, current: snapshot && this.target(snapshot, kind, state).version, rejection: state.rejection };
    }
    const { id, workload, namespace, proxyVersion, adminAddress, connectedAt } = this;
    return { id, workload, namespace, proxyVersion, adminAddress, connectedAt, types };
  }
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, index) => name === b[index]);
}

export class AdsServer {
  readonly log: Logger;
  readonly events: AdsEvents;
  readonly metrics: XdsMetrics | undefined;
  readonly instance: string;
  source: SnapshotSource | undefined;
  private readonly streams = new Set<ProxyStream>();

  /** Bytes of pushes written but not yet taken by the proxies' transports, bounded. */
  readonly window: PushWindow;

  constructor(options: { log: Logger; events?: AdsEvents; metrics?: XdsMetrics; instance?: string; pushWindowBytes?: number }) {
    this.log = options.log;
    this.events = options.events ?? {};
    this.metrics = options.metrics;
    this.instance = options.instance ?? `${hostname()}/${process.pid}`;
    this.window = new PushWindow(options.pushWindowBytes);
  }

  /**
   * Makes `source` current and pushes what changed to every connected proxy. `changedAt`
   * (performance.now()): when the registry change behind `source` was seen; ACKs are timed from it.
   */
  publish(source: SnapshotSource, changedAt?: number): void {
    this.source = source;
    for (const stream of this.streams) stream.push(changedAt);
  }

  status(): ProxyStatus[] {
    return [...this.streams].map((stream) => stream.status()).sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** The service implementation for one gRPC server; `check` vets each stream's node. */
  implementation(check?: NodeCheck): UntypedServiceImplementation {
    return { StreamResources: (call: Call) => this.accept(call, check) };
  }

  private accept(call: Call, check: NodeCheck | undefined): void {
    let stream: ProxyStream | undefined;
    const close = (): void => {
      if (!stream) return;
      stream.close();
      this.streams.delete(stream);
      this.metrics?.proxyDisconnected();
      this.log.info({ proxy: stream.id }, 'proxy disconnected');
      stream = undefined;
    };
    call.on('data', (request: DiscoveryRequest) => {
      if (!stream) {
        if (!request.node?.workload) {
          // grpc-js turns an 'error' event carrying a status into the stream's final status.
          call.emit('error', { code: GrpcStatus.INVALID_ARGUMENT, details: 'the first DiscoveryRequest of a stream must carry node.workload' });
          return;
        }
        const refusal = check?.(call, request.node);
        if (refusal) {
          this.log.warn({ node: request.node.id || request.node.workload, peer: call.getPeer(), error: refusal.message }, 'proxy stream refused');
          call.emit('error', { code: refusal.code, details: refusal.message });
          return;
        }
        stream = new ProxyStream(call, this, request.node);
        this.streams.add(stream);
        this.metrics?.proxyConnected();
        this.log.info({ proxy: stream.id, proxyVersion: stream.proxyVersion }, 'proxy connected');
      }
      stream.handle(request);
    });
    call.on('end', () => {
      close();
      call.end();
    });
    // Refusals above end the stream this way too.
    call.on('error', (error: { code?: unknown }) => {
      this.metrics?.streamFailed((typeof error.code === 'number' && GrpcStatus[error.code]) || 'UNKNOWN');
      close();
    });
    call.on('cancelled', close);
  }
}
