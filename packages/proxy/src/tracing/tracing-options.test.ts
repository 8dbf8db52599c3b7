import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTracingFlags, type TracingFlags } from './tracing-options.ts';

const DEFAULTS: TracingFlags = {
  'tracing-otlp-endpoint': '',
  'tracing-sampling': '1',
  'tracing-max-queue': '2048',
  'tracing-max-batch': '512',
  'tracing-flush-interval-ms': '1000',
  'tracing-export-timeout-ms': '5000',
};

describe('parseTracingFlags', () => {
  it('reads the defaults: 1% sampling, no endpoint, 2048/512/1s/5s', () => {
    assert.deepEqual(parseTracingFlags(DEFAULTS), { samplingPercent: 1, otlpEndpoint: undefined, batch: { maxQueueSize: 2048, maxBatchSize: 512, flushIntervalMs: 1000, exportTimeoutMs: 5000 } });
  });

  it('takes an http or https endpoint', () => {
    assert.equal(parseTracingFlags({ ...DEFAULTS, 'tracing-otlp-endpoint': 'http://collector:4318/v1/traces' }).otlpEndpoint?.href, 'http://collector:4318/v1/traces');
    assert.equal(parseTracingFlags({ ...DEFAULTS, 'tracing-otlp-endpoint': 'https://collector/v1/traces' }).otlpEndpoint?.protocol, 'https:');
  });

  it('refuses bad values, naming the flag', () => {
    const cases: [Partial<TracingFlags>, RegExp][] = [
      [{ 'tracing-otlp-endpoint': 'collector:4318' }, /--tracing-otlp-endpoint must be an http:\/\/ or https:\/\/ URL, got the scheme "collector:"/],
      [{ 'tracing-otlp-endpoint': 'not a url' }, /--tracing-otlp-endpoint must be an http:\/\/ or https:\/\/ URL such as/],
      [{ 'tracing-otlp-endpoint': 'grpc://collector:4317' }, /got the scheme "grpc:"/],
      [{ 'tracing-sampling': '200' }, /--tracing-sampling must be a percentage from 0 to 100, got "200"/],
      [{ 'tracing-max-queue': '0' }, /--tracing-max-queue must be a positive whole number, got "0"/],
      [{ 'tracing-max-batch': '1.5' }, /--tracing-max-batch must be a positive whole number/],
      [{ 'tracing-flush-interval-ms': '1s' }, /--tracing-flush-interval-ms must be a positive whole number, got "1s"/],
      [{ 'tracing-export-timeout-ms': '-1' }, /--tracing-export-timeout-ms must be a positive whole number/],
      [{ 'tracing-max-queue': '100', 'tracing-max-batch': '200' }, /--tracing-max-batch \(200\) cannot exceed --tracing-max-queue \(100\)/],
    ];
    for (const [flags, message] of cases) assert.throws(() => parseTracingFlags({ ...DEFAULTS, ...flags }), message, JSON.stringify(flags));
  });
});
