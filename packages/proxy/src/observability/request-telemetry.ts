// What spans and access logs say about a request, captured as it arrives — before any layer
// rewrites it — by the first layer of both stacks. That layer also gives the request its
// x-request-id (kept when the caller sent a sane one) and this hop's trace headers: the
// caller's trace continued with this sidecar's span as the parent of the next hop.
import { randomUUID } from 'node:crypto';
import type { HeaderMap, Layer } from '../http/handler.ts';
import { replaceTraceHeaders, type HopTrace } from '../tracing/trace-context.ts';
import type { Tracer } from '../tracing/tracer.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

export interface RequestTelemetry {
  readonly method: string;
  /** Host (and port) as the caller addressed it. */
  readonly authority: string;
  /** Without the query string, which often carries tokens. */
  readonly path: string;
  readonly userAgent: string | undefined;
  /** "1.0", "1.1" or "2", as the caller spoke. */
  readonly httpVersion: string | undefined;
  /** The caller's SPIFFE ID, verified by mTLS (inbound). */
  readonly callerSpiffeId: string | undefined;
  readonly requestId: string;
  readonly trace: HopTrace;
  /** Whether this hop's span is exported (sampled, and an exporter configured). */
  readonly recorded: boolean;
  /** Wall-clock time the request arrived, in Unix nanoseconds. */
  readonly startUnixNano: bigint;
  /** Body sizes, when a content-length said them. */
  readonly requestBytes: number | undefined;
  responseBytes: number | undefined;
}

/** Request ids are logged and traced: a caller's is kept only when short and printable. */
const SANE_REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

function header(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

function contentLength(headers: HeaderMap): number | undefined {
  const value = header(headers, 'content-length');
  return value !== undefined && /^[0-9]{1,15}$/.test(value) ? Number(value) : undefined;
}

/** Unix time minus the monotonic clock, in ns; re-read every 10 s so clock adjustments show. */
let epochOffsetNs = 0n;
let epochOffsetReadAt = -Infinity;

/** The Unix time, in nanoseconds (microsecond precision), at which `hrtime` was read. */
function unixNanoAt(hrtime: bigint): bigint {
  const now = performance.now();
  if (now - epochOffsetReadAt > 10_000) {
    epochOffsetNs = BigInt(Math.round((performance.timeOrigin + now) * 1000)) * 1000n - process.hrtime.bigint();
    epochOffsetReadAt = now;
  }
  return hrtime + epochOffsetNs;
}

export function telemetryLayer(tracer: Tracer): Layer {
  return (next) => (request, context) => {
    const given = header(request.headers, REQUEST_ID_HEADER);
    const requestId = given !== undefined && SANE_REQUEST_ID.test(given) ? given : randomUUID();
    const { trace, recorded, headers: traceHeaders } = tracer.begin(request.headers);
    const query = request.path.indexOf('?');
    const telemetry: RequestTelemetry = {
      method: request.method,
      authority: request.authority,
      path: query === -1 ? request.path : request.path.slice(0, query),
      userAgent: header(request.headers, 'user-agent'),
      httpVersion: request.httpVersion,
      callerSpiffeId: request.connection.peer?.spiffeId,
      requestId,
      trace,
      recorded,
      startUnixNano: unixNanoAt(context.startedAt),
      requestBytes: contentLength(request.headers),
      responseBytes: undefined,
    };
    context.telemetry = telemetry;
    traceHeaders[REQUEST_ID_HEADER] = requestId;
    const headers = replaceTraceHeaders(request.headers, traceHeaders);
    return next({ ...request, headers }, context).then((response) => {
      telemetry.responseBytes = contentLength(response.headers);
      return response;
    });
  };
}
