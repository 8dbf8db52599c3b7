// A route's fault injection (Istio HTTPFaultInjection): delay some requests, answer some with
// an error instead of forwarding them.
import type { Field } from '../registry/field.ts';
import { parsePercent } from './percent.ts';

/** gRPC status names by code (1..16); OK (0) is not a fault. */
export const GRPC_STATUS_NAMES = [
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;
export type GrpcStatusName = (typeof GRPC_STATUS_NAMES)[number];

/** An omitted `percentage` applies the fault to every request. */
const DEFAULT_PERCENTAGE = 100;

export interface FaultDelay {
  readonly fixedDelayMs: number;
  readonly percentage: number;
}

export type FaultAbort =
  | { readonly kind: 'http'; readonly httpStatus: number; readonly percentage: number }
  | { readonly kind: 'grpc'; readonly grpcStatus: GrpcStatusName; readonly grpcCode: number; readonly percentage: number };

export interface FaultPolicy {
  readonly delay: FaultDelay | undefined;
  readonly abort: FaultAbort | undefined;
}

function parseDelay(field: Field): FaultDelay {
  field.object(['fixedDelay', 'percentage']);
  return Object.freeze({ fixedDelayMs: field.get('fixedDelay').durationMs(), percentage: parsePercent(field.get('percentage'), DEFAULT_PERCENTAGE) });
}

function parseAbort(field: Field): FaultAbort {
  field.object(['httpStatus', 'grpcStatus', 'percentage']);
  const percentage = parsePercent(field.get('percentage'), DEFAULT_PERCENTAGE);
  if (field.oneOf(['httpStatus', 'grpcStatus'] as const) === 'httpStatus') {
    return Object.freeze({ kind: 'http', httpStatus: field.get('httpStatus').integer(200, 599), percentage });
  }
  const grpcStatus = field.get('grpcStatus').choice(GRPC_STATUS_NAMES);
  return Object.freeze({ kind: 'grpc', grpcStatus, grpcCode: GRPC_STATUS_NAMES.indexOf(grpcStatus) + 1, percentage });
}

export function parseFaultPolicy(field: Field): FaultPolicy {
  field.object(['delay', 'abort']);
  const delay = field.get('delay');
  const abort = field.get('abort');
  if (!delay.present && !abort.present) field.fail('set delay, abort or both');
  return Object.freeze({ delay: delay.present ? parseDelay(delay) : undefined, abort: abort.present ? parseAbort(abort) : undefined });
}
