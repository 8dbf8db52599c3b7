// Order statistics shared by the generator and the report.

/** Nearest-rank percentile (0 < p <= 1) of an ascending array; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] as number;
}

/** Median of the finite values; NaN when there are none (a failed repetition has no value). */
export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const middle = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? (finite[middle] as number) : ((finite[middle - 1] as number) + (finite[middle] as number)) / 2;
}

export interface Distribution {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/** Sorts `values` in place and summarises them. */
export function distribution(values: Float64Array): Distribution {
  values.sort();
  let sum = 0;
  for (const value of values) sum += value;
  return {
    count: values.length,
    mean: values.length === 0 ? Number.NaN : sum / values.length,
    p50: percentile(values, 0.5),
    p90: percentile(values, 0.9),
    p99: percentile(values, 0.99),
    p999: percentile(values, 0.999),
    max: values.length === 0 ? Number.NaN : (values[values.length - 1] as number),
  };
}
