import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramQuantile, parsePrometheusText } from './prometheus-text.ts';

describe('prometheus text', () => {
  it('parses samples with labels and escapes', () => {
    const samples = parsePrometheusText('# HELP x y\nweft_requests_total{direction="inbound",path="a\\"b"} 7\nup 1\nh_bucket{le="+Inf"} 3\n');
    assert.deepEqual(samples, [
      { name: 'weft_requests_total', labels: { direction: 'inbound', path: 'a"b' }, value: 7 },
      { name: 'up', labels: {}, value: 1 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 3 },
    ]);
  });

  it('estimates quantiles by interpolating inside the bucket', () => {
    const buckets = [
      { le: 0.001, count: 50 },
      { le: 0.01, count: 90 },
      { le: 0.1, count: 100 },
      { le: Infinity, count: 100 },
    ];
    assert.equal(histogramQuantile(0.5, buckets), 0.001);
    assert.ok(Math.abs((histogramQuantile(0.7, buckets) ?? 0) - 0.0055) < 1e-12);
    assert.ok(Math.abs((histogramQuantile(0.99, buckets) ?? 0) - 0.091) < 1e-12);
    assert.equal(histogramQuantile(0.5, [{ le: Infinity, count: 0 }]), undefined);
    assert.equal(histogramQuantile(0.99, [{ le: 1, count: 1 }, { le: Infinity, count: 100 }]), 1);
  });
});
