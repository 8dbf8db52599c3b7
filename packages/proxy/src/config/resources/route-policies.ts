// The per-route policies of a Route resource — retries, faults, mirroring, header edits —
// validated and turned into typed values the logical layers use.
import { RETRY_CONDITIONS, type RetryCondition, type weft } from '@weft/proto';
import { InvalidResourceError, timerMs } from './invalid-resource.ts';

export interface RetryPolicyConfig {
  /** Retries after the first try. */
  readonly attempts: number;
  readonly perTryTimeoutMs: number;
  readonly retryOn: ReadonlySet<RetryCondition>;
  readonly retriableStatusCodes: ReadonlySet<number>;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export interface FaultConfig {
  readonly delay: { readonly delayMs: number; readonly percentage: number } | undefined;
  readonly abort: { readonly httpStatus: number | undefined; readonly grpcStatus: number | undefined; readonly percentage: number } | undefined;
}

export interface MirrorConfig {
  readonly cluster: string;
  readonly percentage: number;
}

export interface HeaderEdits {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const DEFAULT_BACKOFF = { baseMs: 25, maxMs: 250 };

function percentage(value: number | null | undefined, where: string): number {
  const share = value ?? 0;
  if (!(share >= 0 && share <= 100)) throw new InvalidResourceError(where, `percentage ${share} is not between 0 and 100`);
  return share;
}

export function decodeRetryPolicy(policy: weft.config.v1.RetryPolicy.$Properties | null | undefined, where: string): RetryPolicyConfig | undefined {
  if (!policy || !policy.attempts) return undefined;
  const retryOn = new Set<RetryCondition>();
  for (const condition of policy.retryOn ?? []) {
    if (!(RETRY_CONDITIONS as readonly string[]).includes(condition)) throw new InvalidResourceError(where, `unknown retry condition "${condition}"`);
    retryOn.add(condition as RetryCondition);
  }
  const codes = new Set(policy.retriableStatusCodes ?? []);
  for (const code of codes) if (code < 100 || code > 599) throw new InvalidResourceError(where, `retriable status code ${code} is not an HTTP status`);
  const backoffBaseMs = timerMs(policy.backoffBaseMs, 'retry backoff base', where) || DEFAULT_BACKOFF.baseMs;
  const backoffMaxMs = timerMs(policy.backoffMaxMs, 'retry backoff maximum', where) || Math.max(DEFAULT_BACKOFF.maxMs, backoffBaseMs);
  if (backoffMaxMs < backoffBaseMs) throw new InvalidResourceError(where, 'retry backoff maximum is below its base');
  return Object.freeze({ attempts: policy.attempts, perTryTimeoutMs: timerMs(policy.perTryTimeoutMs, 'per-try timeout', where), retryOn, retriableStatusCodes: codes, backoffBaseMs, backoffMaxMs });
}

export function decodeFault(fault: weft.config.v1.FaultPolicy.$Properties | null | undefined, where: string): FaultConfig | undefined {
  if (!fault || (!fault.delay && !fault.abort)) return undefined;
  const abort = fault.abort;
  if (abort && !abort.httpStatus === !abort.grpcStatus) throw new InvalidResourceError(where, 'a fault abort sets exactly one of http_status and grpc_status');
  if (abort?.httpStatus && (abort.httpStatus < 200 || abort.httpStatus > 599)) throw new InvalidResourceError(where, `fault abort status ${abort.httpStatus} is not an HTTP status`);
  if (abort?.grpcStatus && (abort.grpcStatus < 1 || abort.grpcStatus > 16)) throw new InvalidResourceError(where, `fault abort gRPC status ${abort.grpcStatus} is not 1..16`);
  return Object.freeze({
    delay: fault.delay ? Object.freeze({ delayMs: timerMs(fault.delay.fixedDelayMs, 'fault delay', where), percentage: percentage(fault.delay.percentage, `${where} fault delay`) }) : undefined,
    abort: abort
      ? Object.freeze({ httpStatus: abort.httpStatus || undefined, grpcStatus: abort.grpcStatus || undefined, percentage: percentage(abort.percentage, `${where} fault abort`) })
      : undefined,
  });
}

export function decodeMirror(mirror: weft.config.v1.MirrorPolicy.$Properties | null | undefined, where: string): MirrorConfig | undefined {
  if (!mirror?.cluster) return undefined;
  return Object.freeze({ cluster: mirror.cluster, percentage: percentage(mirror.percentage, `${where} mirror`) });
}

function headerName(name: string, where: string): string {
  if (!HEADER_NAME.test(name)) throw new InvalidResourceError(where, `"${name}" is not a lower-case header name`);
  return name;
}

export function decodeHeaderEdits(edits: weft.config.v1.HeaderOperations.$Properties | null | undefined, where: string): HeaderEdits | undefined {
  if (!edits) return undefined;
  const pairs = (map: Record<string, string> | null | undefined) => Object.freeze(Object.entries(map ?? {}).map(([name, value]) => Object.freeze([headerName(name, where), value] as const)));
  const result = { set: pairs(edits.set), add: pairs(edits.add), remove: Object.freeze((edits.remove ?? []).map((name) => headerName(name, where))) };
  return result.set.length + result.add.length + result.remove.length === 0 ? undefined : Object.freeze(result);
}
