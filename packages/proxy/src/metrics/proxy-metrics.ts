// Request metrics in Prometheus form (prom-client), served on the stats port. Labels are
// bounded: direction, services and workloads from configuration, status code and flag — never
// paths, IDs or client addresses.
import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import type { Completion } from '../http/exchange.ts';
import type { TracingCounters } from '../tracing/otlp-exporter.ts';

/** Sub-millisecond to tens of seconds. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'direction' | 'destination_service' | 'destination_workload' | 'response_code' | 'response_flags'>;
  private readonly duration: Histogram<'direction' | 'destination_service' | 'destination_workload'>;

  constructor() {
    this.requests = new Counter({
      name: 'weft_requests_total',
      help: 'Requests handled, by direction, destination and outcome',
      labelNames: ['direction', 'destination_service', 'destination_workload', 'response_code', 'response_flags'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'weft_request_duration_seconds',
      help: 'Time from request start to the end of the response',
      labelNames: ['direction', 'destination_service', 'destination_workload'],
      buckets: DURATION_BUCKETS,
      registers: [this.registry],
    });
  }

  record({ context, status, flag, durationSeconds }: Completion): void {
    const destination = {
      direction: context.direction,
      destination_service: context.destinationService ?? '',
      destination_workload: context.destinationWorkload ?? '',
    };
    this.requests.inc({ ...destination, response_code: String(status), response_flags: flag || '-' });
    this.duration.observe(destination, durationSeconds);
  }

  /** Span export counters, read from `counters` at each scrape. */
  observeTracing(counters: () => TracingCounters): void {
    const counter = (name: string, help: string, read: (counts: TracingCounters) => number): void => {
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(read(counters()));
        },
      });
    };
    counter('weft_tracing_spans_exported_total', 'Spans the OTLP collector accepted', (counts) => counts.spansExported);
    counter('weft_tracing_spans_dropped_total', 'Spans dropped because the export queue was full', (counts) => counts.spansDropped);
    counter('weft_tracing_export_failures_total', 'Span export requests that failed (refused, timed out or not 2xx)', (counts) => counts.exportFailures);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The Prometheus scrape endpoint: GET /stats/prometheus. */
export function createStatsServer(metrics: ProxyMetrics): Server {
  return createServer((request, response) => {
    if ((request.url ?? '').split('?')[0] !== '/stats/prometheus') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('try /stats/prometheus\n');
      return;
    }
    metrics.text().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
}
