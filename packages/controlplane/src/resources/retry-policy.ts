// A route's retries (Istio HTTPRetry): how many, on which conditions, how long each attempt
// may take, and (a Weft extension) the backoff between attempts.
import { RETRY_CONDITIONS, type RetryCondition } from '@weft/proto';
import { MAX_DURATION_MS, quote, type Field } from '../registry/field.ts';

/** Istio's conditions when `retryOn` is not given, with its one retriable status code (503). */
const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes,503';

/** Envoy's defaults; also used for the bound not written. */
const DEFAULT_BACKOFF_BASE_MS = 25;
const BACKOFF_MAX_FACTOR = 10;

export interface RetryBackoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

export interface RetryPolicy {
  /** Retries after the first try; 0 disables retries. */
  readonly attempts: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly retryOn: readonly RetryCondition[];
  /** Statuses that `retriable-status-codes` retries. */
  readonly retriableStatusCodes: readonly number[];
  /** Undefined: the proxy's defaults (25 ms, 250 ms). */
  readonly backoff: RetryBackoff | undefined;
}

const STATUS_CODE = /^\d{3}$/;

/** Istio's comma-separated `retryOn`; numbers are status codes and imply retriable-status-codes. */
function parseRetryOn(text: string, field: Field): { retryOn: RetryCondition[]; codes: number[] } {
  const conditions = new Set<RetryCondition>();
  const codes = new Set<number>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') field.fail(`${quote(text)} has an empty item`);
    if (STATUS_CODE.test(item) && Number(item) >= 100 && Number(item) <= 599) {
      codes.add(Number(item));
      conditions.add('retriable-status-codes');
    } else if ((RETRY_CONDITIONS as readonly string[]).includes(item)) {
      conditions.add(item as RetryCondition);
    } else {
      field.fail(`${quote(item)} is not a retry condition (one of ${RETRY_CONDITIONS.join(', ')}, or an HTTP status code 100..599)`);
    }
  }
  // Envoy would accept it and never retry on it: a condition that cannot fire is a mistake.
  if (conditions.has('retriable-status-codes') && codes.size === 0) field.fail('retriable-status-codes needs at least one status code in the list (e.g. "retriable-status-codes,503")');
  return { retryOn: [...conditions], codes: [...codes].sort((a, b) => a - b) };
}

function defaultMaxMs(baseMs: number): number {
  return Math.min(baseMs * BACKOFF_MAX_FACTOR, MAX_DURATION_MS);
}

/** Envoy's retry_back_off. A bare duration is Istio's `backoff` (the base interval). */
function parseBackoff(field: Field): RetryBackoff {
  if (typeof field.value === 'string') {
    const baseMs = field.durationMs();
    return Object.freeze({ baseMs, maxMs: defaultMaxMs(baseMs) });
  }
  field.object(['baseInterval', 'maxInterval']);
  const base = field.get('baseInterval');
  const baseMs = base.present ? base.durationMs() : DEFAULT_BACKOFF_BASE_MS;
  const max = field.get('maxInterval');
  const maxMs = max.present ? max.durationMs() : defaultMaxMs(baseMs);
  if (maxMs < baseMs) max.fail(`must be at least baseInterval (${baseMs}ms), got ${maxMs}ms`);
  return Object.freeze({ baseMs, maxMs });
}

export function parseRetryPolicy(field: Field): RetryPolicy {
  field.object(['attempts', 'perTryTimeout', 'retryOn', 'backoff']);
  const retryOn = field.get('retryOn');
  const parsed = parseRetryOn(retryOn.present ? retryOn.string() : DEFAULT_RETRY_ON, retryOn);
  return Object.freeze({
    // Required: Istio reads a missing count as 0 (no retries), a trap for `retries: {retryOn: 5xx}`.
    attempts: field.get('attempts').integer(0, 100),
    perTryTimeoutMs: field.get('perTryTimeout').present ? field.get('perTryTimeout').durationMs() : undefined,
    retryOn: Object.freeze(parsed.retryOn),
    retriableStatusCodes: Object.freeze(parsed.codes),
    backoff: field.get('backoff').present ? parseBackoff(field.get('backoff')) : undefined,
  });
}
