// Reading samples out of a Prometheus text exposition, for tests that scrape metrics.

/** The value of one series, e.g. `weft_controlplane_xds_pushes_total{type="route"}`; fails when absent. */
export function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  if (line === undefined) throw new Error(`no series ${series} in the scrape:\n${text}`);
  return Number(line.slice(series.length + 1));
}
