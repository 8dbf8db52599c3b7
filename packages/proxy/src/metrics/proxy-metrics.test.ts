import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyMetrics, type ProxyStateSource } from './proxy-metrics.ts';

const state: ProxyStateSource = {
  local: { workload: 'web', namespace: 'shop', principal: () => undefined },
  clusters: () => [],
  certificateNotAfter: () => undefined,
  configVersions: () => [],
  xds: () => ({ connected: true, rejected: 0 }),
};

test('counts read at scrape time: access-log lines dropped and span export', async () => {
  const metrics = new ProxyMetrics(state);
  let dropped = 3;
  metrics.observeAccessLog(() => dropped);
  metrics.observeTracing(() => ({ spansExported: 10, spansDropped: 2, exportFailures: 1 }));
  assert.match(await metrics.metrics(), /^weft_access_log_lines_dropped_total 3$/m);
  dropped = 5;
  const text = await metrics.metrics();
  assert.match(text, /^weft_access_log_lines_dropped_total 5$/m);
  assert.match(text, /^weft_tracing_spans_dropped_total 2$/m);
  assert.match(text, /^weft_xds_connected 1$/m);
});
