// The control plane's metrics in Prometheus form (prom-client), served on the debug port at
// GET /metrics. One Registry per control plane, never prom-client's global one. The parts that
// count (ADS server, certificate service, registries, watches) see only the small interfaces
// below, not prom-client. Labels are bounded: resource types, refusal reasons, gRPC status
// names, registry kinds and Kubernetes resource names (services, pods...) — never proxy ids,
// object names, or anything a caller sends.
import { resourceKindsInPushOrder, type ResourceKind } from '@weft/proto';
import { Counter, exponentialBuckets, Gauge, Histogram, Registry } from 'prom-client';

/** What the ADS server reports. */
export interface XdsMetrics {
  proxyConnected(): void;
  proxyDisconnected(): void;
  /** A DiscoveryResponse went out. */
  pushed(kind: ResourceKind): void;
  /** A proxy ACKed a response caused by the registry change seen at `changedAt` (a performance.now() reading). */
  converged(kind: ResourceKind, changedAt: number): void;
  nacked(kind: ResourceKind): void;
  /** A proxy's snapshot was built for a model: every type, encoded. */
  snapshotBuilt(bytes: number): void;
  /** A stream ended with an error status (streams refused by the server included). */
  streamFailed(code: string): void;
}

/** What the certificate service reports. */
export interface IssuanceMetrics {
  issued(): void;
  refused(reason: string): void;
}

export type InformerEvent = 'add' | 'update' | 'delete' | 'error';

/** What a registry (file or Kubernetes) reports. */
export interface RegistryMetrics {
  /** A new model was accepted; `changeSeenAt` (performance.now()) is when the change behind it was seen, undefined for the first model or a resync. */
  modelAccepted(changeSeenAt: number | undefined): void;
  /** A change was refused and the last good model kept. */
  updateRefused(): void;
  /** Kubernetes: custom resources left out of the latest assembly. */
  rejectedResources(count: number): void;
  /** Kubernetes: an informer of `resource` (the collection, e.g. services) reported `event`. */
  informerEvent(resource: string, event: InformerEvent): void;
}

export type RegistryKind = 'file' | 'kubernetes';

/**
 * 1 ms to 30 s. Both registries settle for 50 ms and the control plane debounces for 100 ms,
 * so the steps are finer just above those.
 */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.3, 0.5, 1, 2.5, 5, 10, 30];

/** 1 KiB to 64 MiB. */
const SNAPSHOT_BUCKETS = exponentialBuckets(1024, 4, 9);

const PREFIX = 'weft_controlplane_';

/** Seconds since `since`, a performance.now() reading. */
function secondsSince(since: number): number {
  return (performance.now() - since) / 1000;
}

export class ControlPlaneMetrics {
  readonly prometheus = new Registry();
  readonly xds: XdsMetrics;
  readonly issuance: IssuanceMetrics;
  private readonly registryUpdates: {
    readonly rebuilds: Counter<'registry'>;
    readonly refusals: Counter<'registry'>;
    readonly lag: Histogram<'registry'>;
    readonly rejected: Gauge<'registry'>;
    readonly informerEvents: Counter<'resource' | 'event'>;
  };

  constructor() {
    const registers = [this.prometheus];
    const type = ['type'] as const;
    const connected = new Gauge({ name: `${PREFIX}xds_connected_proxies`, help: 'Proxies with an open xDS stream', registers });
    const pushes = new Counter({ name: `${PREFIX}xds_pushes_total`, help: 'DiscoveryResponses sent, by resource type', labelNames: type, registers });
    const latency = new Histogram({
      name: `${PREFIX}xds_push_latency_seconds`,
      help: "From the registry change that caused a push to the proxy's ACK of it, by resource type (includes the 100 ms debounce)",
      labelNames: type,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const nacks = new Counter({ name: `${PREFIX}xds_nacks_total`, help: 'DiscoveryResponses proxies rejected, by resource type', labelNames: type, registers });
    const snapshotBytes = new Histogram({ name: `${PREFIX}xds_snapshot_bytes`, help: "Encoded size of a proxy's snapshot (every type), once per proxy per model", buckets: SNAPSHOT_BUCKETS, registers });
    const streamErrors = new Counter({ name: `${PREFIX}xds_stream_errors_total`, help: 'xDS streams ended with an error, by gRPC status (refused streams included)', labelNames: ['code'], registers });
    // Every type shows from the first scrape, so rate() works before the first NACK.
    for (const kind of resourceKindsInPushOrder) {
      pushes.inc({ type: kind }, 0);
      nacks.inc({ type: kind }, 0);
      latency.zero({ type: kind });
    }
    this.xds = {
      proxyConnected: () => connected.inc(),
      proxyDisconnected: () => connected.dec(),
      pushed: (kind) => pushes.inc({ type: kind }),
      converged: (kind, changedAt) => latency.observe({ type: kind }, secondsSince(changedAt)),
      nacked: (kind) => nacks.inc({ type: kind }),
      snapshotBuilt: (bytes) => snapshotBytes.observe(bytes),
      streamFailed: (code) => streamErrors.inc({ code }),
    };

    const issued = new Counter({ name: `${PREFIX}ca_certificates_issued_total`, help: 'Workload certificates issued', registers });
    const refused = new Counter({ name: `${PREFIX}ca_refusals_total`, help: 'Certificate requests refused, by reason', labelNames: ['reason'], registers });
    this.issuance = { issued: () => issued.inc(), refused: (reason) => refused.inc({ reason }) };

    const registry = ['registry'] as const;
    this.registryUpdates = {
      rebuilds: new Counter({ name: `${PREFIX}registry_rebuilds_total`, help: 'Mesh models accepted from the registry (the first, changes, and resyncs)', labelNames: registry, registers }),
      refusals: new Counter({ name: `${PREFIX}registry_refused_updates_total`, help: 'Registry changes refused; the last good model stays', labelNames: registry, registers }),
      lag: new Histogram({ name: `${PREFIX}registry_update_lag_seconds`, help: 'From a change seen (file event, informer event) to the model built from it', labelNames: registry, buckets: LATENCY_BUCKETS, registers }),
      rejected: new Gauge({ name: `${PREFIX}registry_rejected_resources`, help: 'Custom resources left out of the model (Kubernetes)', labelNames: registry, registers }),
      informerEvents: new Counter({ name: `${PREFIX}informer_events_total`, help: 'Kubernetes informer events, by resource and event', labelNames: ['resource', 'event'], registers }),
    };
  }

  /** The counting interface for one registry. */
  forRegistry(kind: RegistryKind): RegistryMetrics {
    const { rebuilds, refusals, lag, rejected, informerEvents } = this.registryUpdates;
    const labels = { registry: kind };
    rebuilds.inc(labels, 0);
    refusals.inc(labels, 0);
    lag.zero(labels);
    return {
      modelAccepted: (changeSeenAt) => {
        rebuilds.inc(labels);
        if (changeSeenAt !== undefined) lag.observe(labels, secondsSince(changeSeenAt));
      },
      updateRefused: () => refusals.inc(labels),
      rejectedResources: (count) => rejected.set(labels, count),
      informerEvent: (resource, event) => informerEvents.inc({ resource, event }),
    };
  }
}
