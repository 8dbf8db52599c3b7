// The proxy's tracing settings from its flags, validated at the edge: every bad value is
// refused with the flag's name and what it takes.
import { parsePositiveInteger } from '@weft/runtime';
import { DEFAULT_BATCH_SETTINGS, type BatchSettings } from './otlp-exporter.ts';
import { parsePercent } from './sampler.ts';

export interface TracingOptions {
  /** Share of new traces sampled (a caller's decision is kept). */
  readonly samplingPercent: number;
  /** OTLP/HTTP traces endpoint; without one nothing is recorded (headers still propagate). */
  readonly otlpEndpoint: URL | undefined;
  readonly batch: BatchSettings;
}

/** Istio's default: one trace in a hundred. */
export const DEFAULT_SAMPLING_PERCENT = 1;

export const DEFAULT_TRACING: TracingOptions = Object.freeze({ samplingPercent: DEFAULT_SAMPLING_PERCENT, otlpEndpoint: undefined, batch: DEFAULT_BATCH_SETTINGS });

export interface TracingFlags {
  readonly 'tracing-otlp-endpoint': string;
  readonly 'tracing-sampling': string;
  readonly 'tracing-max-queue': string;
  readonly 'tracing-max-batch': string;
  readonly 'tracing-flush-interval-ms': string;
  readonly 'tracing-export-timeout-ms': string;
}

function parseOtlpEndpoint(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--tracing-otlp-endpoint must be an http:// or https:// URL such as http://collector:4318/v1/traces, got "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--tracing-otlp-endpoint must be an http:// or https:// URL, got the scheme "${url.protocol}"`);
  return url;
}

export function parseTracingFlags(flags: TracingFlags): TracingOptions {
  const batch: BatchSettings = {
    maxQueueSize: parsePositiveInteger(flags['tracing-max-queue'], '--tracing-max-queue'),
    maxBatchSize: parsePositiveInteger(flags['tracing-max-batch'], '--tracing-max-batch'),
    flushIntervalMs: parsePositiveInteger(flags['tracing-flush-interval-ms'], '--tracing-flush-interval-ms'),
    exportTimeoutMs: parsePositiveInteger(flags['tracing-export-timeout-ms'], '--tracing-export-timeout-ms'),
  };
  if (batch.maxBatchSize > batch.maxQueueSize) throw new Error(`--tracing-max-batch (${batch.maxBatchSize}) cannot exceed --tracing-max-queue (${batch.maxQueueSize})`);
  return {
    samplingPercent: parsePercent(flags['tracing-sampling'], '--tracing-sampling'),
    otlpEndpoint: flags['tracing-otlp-endpoint'] === '' ? undefined : parseOtlpEndpoint(flags['tracing-otlp-endpoint']),
    batch,
  };
}
