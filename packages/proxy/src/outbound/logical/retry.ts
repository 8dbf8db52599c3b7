// Retries (Envoy's retry policy): an attempt whose outcome matches a retryOn condition is
// tried again — on another endpoint when there is one — after an exponential backoff with full
// jitter, while attempts, the cluster's retry budget and maxRetries allow. Each attempt
// carries weft-attempt-count. The body streams to the first attempt and is kept up to a cap;
// a body larger than that, or not finished when the attempt failed, is not retried. The last
// outcome goes back to the caller, flagged URX when retries ran out. A peer sidecar reports its
// own application dropping the connection (or refusing it) as a 503 flagged UC (UF): that counts
// as reset (connect-failure) here too, so retryOn means the same with a sidecar in between.
import type { RetryCondition } from '@weft/proto';
import type { RetryPolicyConfig } from '../../config/resources/route-policies.ts';
import { ProxyError, ProxyErrorKind, RESPONSE_FLAGS_HEADER } from '../../errors.ts';
import type { Layer, ProxyResponse } from '../../http/handler.ts';
import { RefusedStreamError } from '../endpoint/upstream-errors.ts';
import { replayableBody, replayWithinGrace } from './replayable-body.ts';

export const ATTEMPT_COUNT_HEADER = 'weft-attempt-count';

/** The retry budget of the cluster a request was sent to. */
export interface RetryBudgets {
  /** A release function when a retry may start now; undefined when the budget is spent. */
  startRetry(cluster: string): (() => void) | undefined;
}

type Outcome = { readonly kind: 'response'; readonly response: ProxyResponse } | { readonly kind: 'error'; readonly error: unknown };

const GRPC_CONDITIONS: Partial<Record<string, RetryCondition>> = { '1': 'cancelled', '4': 'deadline-exceeded', '8': 'resource-exhausted', '13': 'internal', '14': 'unavailable' };

/** The retryOn conditions an outcome satisfies. */
function conditionsOf(outcome: Outcome, perTryTimedOut: boolean): RetryCondition[] {
  if (outcome.kind === 'error') {
    if (outcome.error instanceof RefusedStreamError) return ['refused-stream', '5xx'];
    const kind = outcome.error instanceof ProxyError ? outcome.error.kind : undefined;
    if (kind === ProxyErrorKind.UPSTREAM_CONNECT_FAILURE) return ['connect-failure', '5xx', 'gateway-error'];
    if (kind === ProxyErrorKind.UPSTREAM_RESET) return ['reset', '5xx'];
    if (kind === ProxyErrorKind.UPSTREAM_TIMEOUT && perTryTimedOut) return ['5xx', 'gateway-error'];
    return [];
  }
  const { status, headers, upstreamPeer } = outcome.response;
  const conditions: RetryCondition[] = [];
  // Believed only from a sidecar proven by mTLS: the hop behind it is the one that failed.
  if (status === 503 && upstreamPeer !== undefined) {
    const flag = headers[RESPONSE_FLAGS_HEADER];
    if (flag === ProxyErrorKind.UPSTREAM_RESET.flag) conditions.push('reset');
    if (flag === ProxyErrorKind.UPSTREAM_CONNECT_FAILURE.flag) conditions.push('connect-failure');
  }
  if (status >= 500) conditions.push('5xx');
  if (status === 502 || status === 503 || status === 504) conditions.push('gateway-error');
  if (status === 409) conditions.push('retriable-4xx');
  const grpcStatus = headers['grpc-status'];
  const grpc = typeof grpcStatus === 'string' ? GRPC_CONDITIONS[grpcStatus] : undefined;
  if (grpc) conditions.push(grpc);
  return conditions;
}

function retriable(policy: RetryPolicyConfig, outcome: Outcome, perTryTimedOut: boolean): boolean {
  if (outcome.kind === 'response' && policy.retryOn.has('retriable-status-codes') && policy.retriableStatusCodes.has(outcome.response.status)) return true;
  return conditionsOf(outcome, perTryTimedOut).some((condition) => policy.retryOn.has(condition));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export function retryLayer(policy: RetryPolicyConfig, budgets: RetryBudgets, random: () => number = Math.random): Layer {
  return (next) => async (request, context) => {
    const body = replayableBody(request.body, request.headers['content-length']);
    let attemptBody = body.first();
    let releaseRetry: (() => void) | undefined;
    for (let attempt = 1; ; attempt++) {
      context.attempt = attempt;
      const perTry = policy.perTryTimeoutMs > 0 ? new AbortController() : undefined;
      const timer = perTry && setTimeout(() => perTry.abort(new ProxyError(ProxyErrorKind.UPSTREAM_TIMEOUT, `no response within the per-try timeout of ${policy.perTryTimeoutMs}ms`)), policy.perTryTimeoutMs);
      const signal = perTry ? AbortSignal.any([request.signal, perTry.signal]) : request.signal;
      let outcome: Outcome;
      try {
        outcome = { kind: 'response', response: await next({ ...request, body: attemptBody, signal, headers: { ...request.headers, [ATTEMPT_COUNT_HEADER]: String(attempt) } }, context) };
      } catch (error) {
        outcome = { kind: 'error', error };
      }
      clearTimeout(timer);
      releaseRetry?.();
      const again = !request.signal.aborted && retriable(policy, outcome, perTry?.signal.aborted ?? false);
      if (again && attempt <= policy.attempts) {
        await sleep(random() * Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (attempt - 1)), request.signal);
        const replay = await replayWithinGrace(body, request.signal);
        const release = replay === undefined ? undefined : budgets.startRetry(context.clusterName ?? '');
        if (replay !== undefined && release) {
          releaseRetry = release;
          // The failed answer is dropped only now: when no retry follows, the caller gets it whole.
          if (outcome.kind === 'response') outcome.response.body?.resume();
          attemptBody = replay;
          continue;
        }
      }
      if (again) context.flag = 'URX';
      if (outcome.kind === 'error') throw outcome.error;
      return outcome.response;
    }
  };
}
