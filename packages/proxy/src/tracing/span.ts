// A finished span: one request through one sidecar, a CLIENT span outbound and a SERVER span
// inbound, with OpenTelemetry's HTTP semantic-convention attributes and Weft's own (peer
// identity, upstream, response flag, route, attempts). Built when the exchange completes.
import type { Completion } from '../http/exchange.ts';
import { parseAuthority } from '../http/headers.ts';

export type AttributeValue = string | number | boolean;

export interface FinishedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly traceState: string | undefined;
  readonly name: string;
  readonly kind: 'CLIENT' | 'SERVER';
  readonly startUnixNano: bigint;
  readonly endUnixNano: bigint;
  /** Integers only among the numbers (OTLP intValue). */
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly error: boolean;
}

/** Methods semantic conventions name; others are reported as _OTHER with the original beside. */
const KNOWN_METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE']);
const DEFAULT_PORT = 80;

/**
 * The span of a completed request, or undefined when it is not recorded. A CLIENT span fails
 * at 4xx and above, a SERVER span at 5xx (semantic conventions), and either when the proxy
 * flagged the outcome (no route, upstream failure, caller gone).
 */
export function finishedSpan({ context, status, flag, durationSeconds }: Completion): FinishedSpan | undefined {
  const telemetry = context.telemetry;
  if (!telemetry?.recorded) return undefined;
  const { trace } = telemetry;
  const kind = context.direction === 'outbound' ? 'CLIENT' : 'SERVER';
  const authority = parseAuthority(telemetry.authority);
  const failedStatus = status >= (kind === 'CLIENT' ? 400 : 500);
  const error = failedStatus || flag !== '';
  const method = KNOWN_METHODS.has(telemetry.method) ? telemetry.method : '_OTHER';
  const peer = context.direction === 'inbound' ? telemetry.callerSpiffeId : context.upstreamPeer;
  const attributes: Record<string, AttributeValue> = {
    'http.request.method': method,
    'url.path': telemetry.path,
    'server.address': authority?.host ?? telemetry.authority,
    'server.port': authority?.port ?? DEFAULT_PORT,
    'weft.response_flags': flag || '-',
    'weft.request_id': telemetry.requestId,
  };
  const optional: Record<string, AttributeValue | undefined> = {
    'http.request.method_original': method === '_OTHER' ? telemetry.method : undefined,
    // A caller that left before any response has no status.
    'http.response.status_code': status > 0 ? status : undefined,
    'network.protocol.version': telemetry.httpVersion,
    'user_agent.original': telemetry.userAgent,
    'error.type': error ? flag || String(status) : undefined,
    'weft.peer.spiffe_id': peer,
    'weft.upstream.address': context.upstreamAddress,
    'weft.upstream.cluster': context.clusterName,
    'weft.route.name': context.routeName,
    'weft.upstream.attempts': context.attempt > 0 ? context.attempt : undefined,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) attributes[key] = value;
  return {
    traceId: trace.traceId,
    spanId: trace.spanId,
    parentSpanId: trace.parentSpanId,
    traceState: trace.traceState,
    // Semantic conventions name spans of unknown methods "HTTP".
    name: `${method === '_OTHER' ? 'HTTP' : method} ${authority?.host ?? telemetry.authority}`,
    kind,
    startUnixNano: telemetry.startUnixNano,
    endUnixNano: telemetry.startUnixNano + BigInt(Math.round(durationSeconds * 1e9)),
    attributes,
    error,
  };
}
