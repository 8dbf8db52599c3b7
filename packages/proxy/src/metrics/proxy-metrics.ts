// The sidecar's metrics in Prometheus form (prom-client), served on the stats port. Request
// and TCP metrics are counted as traffic flows; cluster, certificate and configuration state
// is read when Prometheus scrapes. Labels are bounded: workloads, services and subsets from
// configuration or from a verified peer, status codes and flags — never paths, IDs or client
// addresses.
import type { Server } from 'node:http';
import { createJsonServer, prometheusEndpoint } from '@weft/runtime';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Completion } from '../http/exchange.ts';
import type { RequestContext } from '../http/handler.ts';
import type { SplicedBytes } from '../http/raw-http.ts';
import type { TcpStreamObserver } from './tcp-stream-observer.ts';
import type { TracingCounters } from '../tracing/otlp-exporter.ts';
import { splitWorkloadId, UNKNOWN_WORKLOAD, type WorkloadLabels } from './peer-metadata.ts';

/** Sub-millisecond to tens of seconds. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const WORKLOAD_LABELS = ['direction', 'source_workload', 'source_namespace', 'destination_service', 'destination_workload', 'destination_namespace', 'destination_subset'] as const;
type WorkloadLabel = (typeof WORKLOAD_LABELS)[number];
const REQUEST_LABELS = [...WORKLOAD_LABELS, 'source_principal', 'response_code', 'grpc_status', 'response_flags'] as const;
const DURATION_LABELS = [...WORKLOAD_LABELS, 'response_code'] as const;

/** What the sidecar knows about itself and its clusters, read at scrape time. */
export interface ProxyStateSource {
  /** This workload; `principal()` is its SPIFFE ID once it has a certificate. */
  readonly local: { readonly workload: string; readonly namespace: string; principal(): string | undefined };
  clusters(): Iterable<ClusterCounts>;
  /** Expiry of the workload certificate in use (ms since the epoch). */
  certificateNotAfter(): number | undefined;
  /** The accepted (ACKed) version per resource type. */
  configVersions(): Iterable<readonly [type: string, version: string]>;
  xds(): { readonly connected: boolean; readonly rejected: number };
}

export interface ClusterCounts {
  readonly name: string;
  readonly overflows: number;
  readonly retries: number;
  readonly retriesRefused: number;
  readonly ejectionsTotal: number;
  readonly ejectedNow: number;
}

/** A Counter whose value is read from elsewhere at scrape time. */
function setCounter(counter: Counter<string>, values: Iterable<readonly [Record<string, string>, number]>): void {
  counter.reset();
  for (const [labels, value] of values) counter.inc(labels, value);
}

export class ProxyMetrics implements TcpStreamObserver {
  readonly registry = new Registry();
  private readonly state: ProxyStateSource;
  private readonly requests: Counter<(typeof REQUEST_LABELS)[number]>;
  private readonly duration: Histogram<(typeof DURATION_LABELS)[number]>;
  private readonly requestBytes: Counter<WorkloadLabel>;
  private readonly responseBytes: Counter<WorkloadLabel>;
  private readonly tcpOpened: Counter<WorkloadLabel>;
  private readonly tcpClosed: Counter<WorkloadLabel>;
  private readonly tcpReceived: Counter<WorkloadLabel>;
  private readonly tcpSent: Counter<WorkloadLabel>;

  constructor(state: ProxyStateSource) {
    this.state = state;
    const registers = [this.registry];
    this.requests = new Counter({ name: 'weft_requests_total', help: 'HTTP and gRPC requests handled, by direction, source, destination and outcome', labelNames: REQUEST_LABELS, registers });
    this.duration = new Histogram({ name: 'weft_request_duration_seconds', help: 'Time from the start of a request to the end of its response', labelNames: DURATION_LABELS, buckets: DURATION_BUCKETS, registers });
    this.requestBytes = new Counter({ name: 'weft_request_bytes_total', help: 'Request body bytes received from callers', labelNames: WORKLOAD_LABELS, registers });
    this.responseBytes = new Counter({ name: 'weft_response_bytes_total', help: 'Response body bytes sent to callers', labelNames: WORKLOAD_LABELS, registers });
    this.tcpOpened = new Counter({ name: 'weft_tcp_connections_opened_total', help: 'TCP streams (opaque TCP, CONNECT, WebSocket) opened', labelNames: WORKLOAD_LABELS, registers });
    this.tcpClosed = new Counter({ name: 'weft_tcp_connections_closed_total', help: 'TCP streams closed', labelNames: WORKLOAD_LABELS, registers });
    this.tcpReceived = new Counter({ name: 'weft_tcp_received_bytes_total', help: 'Bytes received from the caller of a TCP stream', labelNames: WORKLOAD_LABELS, registers });
    this.tcpSent = new Counter({ name: 'weft_tcp_sent_bytes_total', help: 'Bytes sent to the caller of a TCP stream', labelNames: WORKLOAD_LABELS, registers });
    this.registerScrapeTimeMetrics(registers);
  }

  private registerScrapeTimeMetrics(registers: Registry[]): void {
    const state = this.state;
    const perCluster = (name: string, help: string, read: (cluster: ClusterCounts) => number): void => {
      new Counter({
        name,
        help,
        labelNames: ['cluster'],
        registers,
        collect() {
          setCounter(this, [...state.clusters()].map((cluster) => [{ cluster: cluster.name }, read(cluster)]));
        },
      });
    };
    perCluster('weft_upstream_retries_total', 'Retries started, by cluster', (cluster) => cluster.retries);
    perCluster('weft_upstream_retries_refused_total', 'Retries refused by the retry budget or maxRetries', (cluster) => cluster.retriesRefused);
    perCluster('weft_circuit_breaker_overflows_total', 'Requests refused at once (503 UO) by the circuit breaker', (cluster) => cluster.overflows);
    perCluster('weft_outlier_ejections_total', 'Endpoints ejected by outlier detection', (cluster) => cluster.ejectionsTotal);
    new Gauge({
      name: 'weft_outlier_ejections_active',
      help: 'Endpoints ejected right now',
      labelNames: ['cluster'],
      registers,
      collect() {
        this.reset();
        for (const cluster of state.clusters()) this.set({ cluster: cluster.name }, cluster.ejectedNow);
      },
    });
    new Gauge({
      name: 'weft_certificate_expiration_timestamp_seconds',
      help: 'When the workload certificate in use expires (absent without one)',
      registers,
      collect() {
        this.reset();
        const notAfter = state.certificateNotAfter();
        if (notAfter !== undefined) this.set(notAfter / 1000);
      },
    });
    new Gauge({
      name: 'weft_config_version_info',
      help: 'The accepted configuration version per resource type (value 1)',
      labelNames: ['type', 'version'],
      registers,
      collect() {
        this.reset();
        for (const [type, version] of state.configVersions()) this.set({ type, version }, 1);
      },
    });
    new Counter({
      name: 'weft_config_rejected_total',
      help: 'Configuration updates this proxy rejected (NACKed)',
      registers,
      collect() {
        setCounter(this, [[{}, state.xds().rejected]]);
      },
    });
    new Gauge({
      name: 'weft_xds_connected',
      help: '1 while the configuration stream to the control plane is up',
      registers,
      collect() {
        this.set(state.xds().connected ? 1 : 0);
      },
    });
  }

  /** Span export counters, read from `counters` at each scrape. */
  observeTracing(counters: () => TracingCounters): void {
    const counter = (name: string, help: string, read: (counts: TracingCounters) => number): void => {
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          setCounter(this, [[{}, read(counters())]]);
        },
      });
    };
    counter('weft_tracing_spans_exported_total', 'Spans the OTLP collector accepted', (counts) => counts.spansExported);
    counter('weft_tracing_spans_dropped_total', 'Spans dropped because the export queue was full', (counts) => counts.spansDropped);
    counter('weft_tracing_export_failures_total', 'Span export requests that failed (refused, timed out or not 2xx)', (counts) => counts.exportFailures);
  }

  private workloadLabels(context: RequestContext): Record<WorkloadLabel, string> {
    const { local } = this.state;
    const source: WorkloadLabels = context.direction === 'outbound' ? { workload: local.workload, namespace: local.namespace, principal: local.principal() ?? '' } : (context.source ?? UNKNOWN_WORKLOAD);
    const destination = context.destinationWorkload === undefined ? { workload: 'unknown', namespace: 'unknown' } : splitWorkloadId(context.destinationWorkload);
    return {
      direction: context.direction,
      source_workload: source.workload,
      source_namespace: source.namespace,
      destination_service: context.destinationService ?? 'unknown',
      destination_workload: destination.workload,
      destination_namespace: destination.namespace,
      destination_subset: context.destinationSubset ?? '',
    };
  }

  private sourcePrincipal(context: RequestContext): string {
    return context.direction === 'outbound' ? (this.state.local.principal() ?? '') : (context.source?.principal ?? '');
  }

  /** One finished HTTP or gRPC request. */
  record({ context, status, flag, durationSeconds }: Completion): void {
    const labels = this.workloadLabels(context);
    const responseCode = String(status);
    this.requests.inc({ ...labels, source_principal: this.sourcePrincipal(context), response_code: responseCode, grpc_status: context.grpcStatus ?? '', response_flags: flag || '-' });
    this.duration.observe({ ...labels, response_code: responseCode }, durationSeconds);
    if (context.requestBytes > 0) this.requestBytes.inc(labels, context.requestBytes);
    if (context.responseBytes > 0) this.responseBytes.inc(labels, context.responseBytes);
  }

  tcpOpen(context: RequestContext): void {
    this.tcpOpened.inc(this.workloadLabels(context));
  }

  tcpClose(context: RequestContext, bytes: SplicedBytes): void {
    const labels = this.workloadLabels(context);
    this.tcpClosed.inc(labels);
    if (bytes.received > 0) this.tcpReceived.inc(labels, bytes.received);
    if (bytes.sent > 0) this.tcpSent.inc(labels, bytes.sent);
  }

}

/** The Prometheus scrape endpoint: GET /stats/prometheus. */
export function createStatsServer(metrics: ProxyMetrics): Server {
  return createJsonServer({ '/stats/prometheus': prometheusEndpoint(metrics.registry) });
}
