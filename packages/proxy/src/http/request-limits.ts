// What a caller may send, enforced where HTTP is parsed (both listeners, HTTP/1.1 and HTTP/2):
// the server options that bound header size, header count, header time and HTTP/2 streams, and
// the checks on a request head that Node's parsers do not make. Each limit, its default and why:
// docs/security.md ("Hostile HTTP").
import type { ServerOptions as Http1ServerOptions } from 'node:http';
import type { ServerOptions as Http2ServerOptions } from 'node:http2';
import { ProxyError, ProxyErrorKind } from '../errors.ts';
import type { RequestContext } from './handler.ts';
import { parseAuthority } from './headers.ts';

export interface HttpLimits {
  /** A request's headers must be complete this long after its first byte (slowloris); else 408 and the connection closes. */
  readonly requestHeadersTimeoutMs: number;
  /** Streams one HTTP/2 connection may have open at once; more are refused (REFUSED_STREAM). */
  readonly http2MaxConcurrentStreams: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { requestHeadersTimeoutMs: 10_000, http2MaxConcurrentStreams: 1000 };

/** Header fields a caller may send (Envoy's max_headers_count default). */
export const MAX_REQUEST_HEADERS = 100;
/**
 * Room for what a peer sidecar adds on the way (request id, trace context, peer metadata, target
 * port), so a request that passed the caller's sidecar is not refused by the callee's.
 */
const SIDECAR_ADDED_HEADERS = 20;
/** An HTTP/1.1 request head, in bytes (Node's default, stated so it cannot drift). */
export const MAX_HEADER_BYTES = 16 * 1024;

export function maxRequestHeaders(direction: RequestContext['direction']): number {
  return direction === 'inbound' ? MAX_REQUEST_HEADERS + SIDECAR_ADDED_HEADERS : MAX_REQUEST_HEADERS;
}

/** The connection checker that enforces the headers timeout runs this often. */
function checkingIntervalMs(limits: HttpLimits): number {
  return Math.max(100, Math.min(1000, Math.floor(limits.requestHeadersTimeoutMs / 4)));
}

export function http1ServerOptions(limits: HttpLimits): Http1ServerOptions {
  return {
    keepAliveTimeout: 65_000,
    // No limit on a whole request: bodies stream (uploads, long gRPC-Web calls); route timeouts bound them.
    requestTimeout: 0,
    headersTimeout: limits.requestHeadersTimeoutMs,
    connectionsCheckingInterval: checkingIntervalMs(limits),
    maxHeaderSize: MAX_HEADER_BYTES,
    // Stated, not assumed: the strict parser is what refuses smuggling attempts with 400.
    insecureHTTPParser: false,
    requireHostHeader: true,
    joinDuplicateHeaders: false,
  };
}

export function http2ServerOptions(limits: HttpLimits): Http2ServerOptions {
  return {
    settings: { enablePush: false, maxConcurrentStreams: limits.http2MaxConcurrentStreams },
    // Past the count checked per request (which answers 431), nghttp2 resets the stream itself.
    maxHeaderListPairs: 2 * MAX_REQUEST_HEADERS,
  };
}

/** Fields of a flat name/value header list whose name passes `which`. */
export function countFields(rawHeaders: readonly string[], which: (name: string) => boolean): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (which(rawHeaders[i] as string)) count++;
  return count;
}

export interface RequestHead {
  readonly authority: string;
  /** Header fields as received, pseudo-headers not counted. */
  readonly headerCount: number;
  /** How many Host fields an HTTP/1.1 request carried. */
  readonly hostFields: number;
}

/** Why a request head is refused before it is handled, if it is. */
export function refusalOf(head: RequestHead, direction: RequestContext['direction']): ProxyError | undefined {
  const limit = maxRequestHeaders(direction);
  if (head.headerCount > limit) return new ProxyError(ProxyErrorKind.HEADERS_TOO_LARGE, `more than ${limit} request headers`);
  // RFC 9112 §3.2: more than one Host, or an invalid one, is a 400.
  if (head.hostFields > 1) return new ProxyError(ProxyErrorKind.BAD_REQUEST, 'more than one Host header');
  if (!parseAuthority(head.authority)) return new ProxyError(ProxyErrorKind.BAD_REQUEST, `invalid Host ${JSON.stringify(head.authority)}`);
  return undefined;
}
