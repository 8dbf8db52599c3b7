// The per-request metrics, kept outside prom-client: each request is one Map lookup by a joined
// key and a few additions, where prom-client would sort, hash and validate 11 labels for each of
// four metrics. The text is rendered at scrape time in the Prometheus exposition format and
// served together with prom-client's registry.

/** Label names of a request series, in exposition order. */
export const REQUEST_LABELS = [
  'direction',
  'source_workload',
  'source_namespace',
  'destination_service',
  'destination_workload',
  'destination_namespace',
  'destination_subset',
  'source_principal',
  'response_code',
  'grpc_status',
  'response_flags',
] as const;

/** The labels the duration histogram and the byte counters keep (the first seven, and the code for durations). */
const WORKLOAD_LABEL_COUNT = 7;
const CODE_INDEX = 8;

/** Sub-millisecond to tens of seconds. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Series {
  readonly values: readonly string[];
  count: number;
  durationSum: number;
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly durationCounts: number[];
  requestBytes: number;
  responseBytes: number;
}

function escape(value: string): string {
  return value.replace(/[\\"\n]/g, (character) => (character === '\n' ? '\\n' : `\\${character}`));
}

function labelText(names: readonly string[], values: readonly string[], extra = ''): string {
  const pairs = names.map((name, index) => `${name}="${escape(values[index] ?? '')}"`);
  if (extra) pairs.push(extra);
  return `{${pairs.join(',')}}`;
}

/** Sums series by the first `width` values (plus the code, for durations), for the metrics that keep fewer labels. */
function grouped(series: Iterable<Series>, key: (values: readonly string[]) => readonly string[]): Map<string, { values: readonly string[]; members: Series[] }> {
  const groups = new Map<string, { values: readonly string[]; members: Series[] }>();
  for (const one of series) {
    const values = key(one.values);
    const id = values.join('\u0001');
    const group = groups.get(id) ?? { values, members: [] };
    group.members.push(one);
    groups.set(id, group);
  }
  return groups;
}

export class RequestSeriesTable {
  private readonly series = new Map<string, Series>();

  /** `values` in REQUEST_LABELS order. */
  record(values: readonly string[], durationSeconds: number, requestBytes: number, responseBytes: number): void {
    const key = values.join('\u0001');
    let one = this.series.get(key);
    if (!one) {
      one = { values: [...values], count: 0, durationSum: 0, durationCounts: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), requestBytes: 0, responseBytes: 0 };
      this.series.set(key, one);
    }
    one.count++;
    one.durationSum += durationSeconds;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && durationSeconds > (DURATION_BUCKETS[bucket] as number)) bucket++;
    (one.durationCounts[bucket] as number)++;
    one.requestBytes += requestBytes;
    one.responseBytes += responseBytes;
  }

  /** The four request metrics in the Prometheus text format. */
  text(): string {
    const lines: string[] = [];
    lines.push('# HELP weft_requests_total HTTP and gRPC requests handled, by direction, source, destination and outcome', '# TYPE weft_requests_total counter');
    for (const one of this.series.values()) lines.push(`weft_requests_total${labelText(REQUEST_LABELS, one.values)} ${one.count}`);

    const workloadNames = REQUEST_LABELS.slice(0, WORKLOAD_LABEL_COUNT);
    const durationNames = [...workloadNames, 'response_code'];
    lines.push('# HELP weft_request_duration_seconds Time from the start of a request to the end of its response', '# TYPE weft_request_duration_seconds histogram');
    for (const { values, members } of grouped(this.series.values(), (all) => [...all.slice(0, WORKLOAD_LABEL_COUNT), all[CODE_INDEX] ?? '']).values()) {
      let cumulative = 0;
      DURATION_BUCKETS.forEach((le, index) => {
        cumulative += members.reduce((sum, one) => sum + (one.durationCounts[index] as number), 0);
        lines.push(`weft_request_duration_seconds_bucket${labelText(durationNames, values, `le="${le}"`)} ${cumulative}`);
      });
      const count = members.reduce((sum, one) => sum + one.count, 0);
      lines.push(`weft_request_duration_seconds_bucket${labelText(durationNames, values, 'le="+Inf"')} ${count}`);
      lines.push(`weft_request_duration_seconds_sum${labelText(durationNames, values)} ${members.reduce((sum, one) => sum + one.durationSum, 0)}`);
      lines.push(`weft_request_duration_seconds_count${labelText(durationNames, values)} ${count}`);
    }

    const byWorkload = grouped(this.series.values(), (all) => all.slice(0, WORKLOAD_LABEL_COUNT));
    for (const [name, help, read] of [
      ['weft_request_bytes_total', 'Request body bytes received from callers', (one: Series) => one.requestBytes],
      ['weft_response_bytes_total', 'Response body bytes sent to callers', (one: Series) => one.responseBytes],
    ] as const) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const { values, members } of byWorkload.values()) {
        const total = members.reduce((sum, one) => sum + read(one), 0);
        if (total > 0) lines.push(`${name}${labelText(workloadNames, values)} ${total}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}
