// Per-service traffic figures as a mesh shows them: each service's inbound requests, summed
// over the sidecars of its workloads — count, success rate (non-5xx, as Linkerd counts it),
// and latency quantiles from the duration histograms.
import { histogramQuantile, parsePrometheusText, type Bucket, type Sample } from './prometheus-text.ts';

export interface ServiceStats {
  readonly name: string;
  readonly requests: number;
  readonly successes: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

function inbound(samples: readonly Sample[], name: string): Sample[] {
  return samples.filter((sample) => sample.name === name && sample.labels.direction === 'inbound');
}

/** Figures for one service from the metrics text of each of its sidecars. */
export function serviceStats(name: string, scrapes: readonly string[]): ServiceStats {
  let requests = 0;
  let successes = 0;
  const buckets = new Map<number, number>();
  for (const text of scrapes) {
    const samples = parsePrometheusText(text);
    for (const sample of inbound(samples, 'weft_requests_total')) {
      requests += sample.value;
      if (!(Number(sample.labels.response_code) >= 500)) successes += sample.value;
    }
    for (const sample of inbound(samples, 'weft_request_duration_seconds_bucket')) {
      const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
      buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
    }
  }
  const histogram: Bucket[] = [...buckets].map(([le, count]) => ({ le, count }));
  const quantileMs = (q: number): number | null => {
    const seconds = histogramQuantile(q, histogram);
    return seconds === undefined ? null : Math.round(seconds * 1e6) / 1e3;
  };
  return { name, requests, successes, p50Ms: quantileMs(0.5), p99Ms: quantileMs(0.99) };
}

export function formatTable(rows: readonly ServiceStats[], elapsedSeconds: number): string {
  const header = ['SERVICE', 'REQUESTS', 'SUCCESS', 'RPS', 'P50', 'P99'];
  const cells = rows.map((row) => [
    row.name,
    String(row.requests),
    row.requests === 0 ? '-' : `${((100 * row.successes) / row.requests).toFixed(2)}%`,
    elapsedSeconds > 0 ? (row.requests / elapsedSeconds).toFixed(1) : '-',
    row.p50Ms === null ? '-' : `${row.p50Ms.toFixed(2)}ms`,
    row.p99Ms === null ? '-' : `${row.p99Ms.toFixed(2)}ms`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((line) => (line[column] as string).length)));
  return [header, ...cells].map((line) => line.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ')).join('\n');
}
