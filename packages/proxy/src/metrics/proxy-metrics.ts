// The sidecar's metrics in Prometheus form (prom-client), served on the stats port. Request
// and TCP metrics are counted as traffic flows; cluster, certificate and configuration state
// is read when Prometheus scrapes. Labels are bounded: workloads, services and subsets from
// configuration or from a verified peer, status codes and flags — never paths, IDs or client
// addresses.
import type { Server } from 'node:http';
import { createJsonServer, prometheusEndpoint } from '@weft/runtime';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Completion } from '../http/exchange.ts';
import type { RequestContext } from '../http/handler.ts';
import type { SplicedBytes } from '../http/raw-http.ts';
import type { TcpStreamObserver } from './tcp-stream-observer.ts';
import type { TracingCounters } from '../tracing/otlp-exporter.ts';
import { splitWorkloadId, UNKNOWN_WORKLOAD, type WorkloadLabels } from './peer-metadata.ts';
import { REQUEST_LABELS, RequestSeriesTable } from './request-series.ts';

const WORKLOAD_LABELS = REQUEST_LABELS.slice(0, 7);
const UNKNOWN_NAME = Object.freeze({ workload: 'unknown', namespace: 'unknown' });
type WorkloadLabel = (typeof WORKLOAD_LABELS)[number];

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

/** Metrics of one sidecar; `metrics()` is the whole scrape. */
export class ProxyMetrics implements TcpStreamObserver {
  readonly registry = new Registry();
  private readonly requests = new RequestSeriesTable();
  /** "name.namespace" -> its parts, split once. */
  private readonly workloadNames = new Map<string, { workload: string; namespace: string }>();
  private readonly state: ProxyStateSource;
  private readonly tcpOpened: Counter<WorkloadLabel>;
  private readonly tcpClosed: Counter<WorkloadLabel>;
  private readonly tcpReceived: Counter<WorkloadLabel>;
  private readonly tcpSent: Counter<WorkloadLabel>;

  constructor(state: ProxyStateSource) {
    this.state = state;
    const registers = [this.registry];
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
    new Gauge({
      name: 'weft_process_active_resources',
      help: 'Resources keeping the event loop alive (sockets, servers, timers...), by type: a count that only grows is a leak',
      labelNames: ['type'],
      registers,
      collect() {
        this.reset();
        for (const type of process.getActiveResourcesInfo()) this.inc({ type });
      },
    });
  }

  /** Access-log lines dropped because stdout could not keep up, read at each scrape. */
  observeAccessLog(linesDropped: () => number): void {
    new Counter({
      name: 'weft_access_log_lines_dropped_total',
      help: 'Access-log lines dropped because stdout could not keep up (requests are never held for the log)',
      registers: [this.registry],
      collect() {
        setCounter(this, [[{}, linesDropped()]]);
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

  /** Source and destination of a request, in WORKLOAD_LABELS order. */
  private workloadValues(context: RequestContext): string[] {
    const { local } = this.state;
    const source: Pick<WorkloadLabels, 'workload' | 'namespace'> = context.direction === 'outbound' ? local : (context.source ?? UNKNOWN_WORKLOAD);
    const destination = this.destinationName(context.destinationWorkload);
    return [context.direction, source.workload, source.namespace, context.destinationService ?? 'unknown', destination.workload, destination.namespace, context.destinationSubset ?? ''];
  }

  private destinationName(id: string | undefined): { workload: string; namespace: string } {
    if (id === undefined) return UNKNOWN_NAME;
    let name = this.workloadNames.get(id);
    if (!name) {
      name = splitWorkloadId(id);
      // Bounded by the workloads in configuration; cleared should a flood of names ever come.
      if (this.workloadNames.size >= 10_000) this.workloadNames.clear();
      this.workloadNames.set(id, name);
    }
    return name;
  }

  private workloadLabels(context: RequestContext): Record<WorkloadLabel, string> {
    const values = this.workloadValues(context);
    return Object.fromEntries(WORKLOAD_LABELS.map((name, index) => [name, values[index] ?? ''])) as Record<WorkloadLabel, string>;
  }

  /** One finished HTTP or gRPC request. */
  record({ context, status, flag, durationSeconds }: Completion): void {
    const values = this.workloadValues(context);
    const principal = context.direction === 'outbound' ? (this.state.local.principal() ?? '') : (context.source?.principal ?? '');
    values.push(principal, String(status), context.grpcStatus ?? '', flag || '-');
    this.requests.record(values, durationSeconds, context.requestBytes, context.responseBytes);
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

  /** The whole scrape: the request series, then prom-client's registry. */
  async metrics(): Promise<string> {
    return `${this.requests.text()}\n${await this.registry.metrics()}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The Prometheus scrape endpoint: GET /stats/prometheus. */
export function createStatsServer(metrics: ProxyMetrics): Server {
  return createJsonServer({ '/stats/prometheus': prometheusEndpoint(metrics) });
}
