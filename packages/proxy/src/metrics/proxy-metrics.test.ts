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

test('active resources by type, read at scrape time: a timer shows up and goes away', async () => {
  const metrics = new ProxyMetrics(state);
  const timeouts = (text: string): number => Number(/^weft_process_active_resources\{type="Timeout"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  const before = timeouts(await metrics.metrics());
  const timers = Array.from({ length: 5 }, () => setTimeout(() => undefined, 60_000));
  assert.equal(timeouts(await metrics.metrics()), before + 5);
  for (const timer of timers) clearTimeout(timer);
  assert.equal(timeouts(await metrics.metrics()), before);
});
