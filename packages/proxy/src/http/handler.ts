// The one request-handler shape of the proxy, and the one layer shape: a layer wraps a handler
// and returns a handler. Stacks are composed from config once (per route, per cluster), not
// per request.
import type { Readable } from 'node:stream';
import type { PeerIdentity } from '@weft/ca';
import type { OriginalDestination } from '@weft/original-dst';
import type { WorkloadLabels } from '../metrics/peer-metadata.ts';
import type { RequestTelemetry } from '../observability/request-telemetry.ts';

/** What is known about the connection a request arrived on. */
export interface ConnectionInfo {
  readonly mtls: boolean;
  /** The caller's verified SPIFFE identity (mTLS only). */
  readonly peer: PeerIdentity | undefined;
  /** With transparent capture: where the caller was connecting before iptables sent it here. */
  readonly originalDestination?: OriginalDestination;
}

export const PLAINTEXT: ConnectionInfo = Object.freeze({ mtls: false, peer: undefined });

export type HeaderMap = Record<string, string | string[] | undefined>;

export interface ProxyRequest {
  readonly method: string;
  /** Origin-form target: path and query. */
  readonly path: string;
  /** Host (and port) the caller addressed, lower-cased. */
  readonly authority: string;
  /** Without hop-by-hop headers. */
  readonly headers: HeaderMap;
  /** null when the request has no body. */
  readonly body: Readable | null;
  /** Aborted when the caller goes away or a deadline passes. */
  readonly signal: AbortSignal;
  readonly connection: ConnectionInfo;
  /** The caller's IP address. */
  readonly remoteAddress: string;
  /** "1.0", "1.1" or "2", as the caller spoke; absent where not known. */
  readonly httpVersion?: string;
}

export interface ProxyResponse {
  readonly status: number;
  readonly headers: HeaderMap;
  readonly body: Readable | null;
  /**
   * Trailers (gRPC puts its status there), resolved once the upstream has sent them or its
   * stream has closed; absent when none can come. A promise, because an upstream's trailers
   * may be reported a moment after its body has ended.
   */
  readonly trailers?: () => Promise<HeaderMap | undefined>;
  /** The SPIFFE ID the upstream proved over mTLS. */
  readonly upstreamPeer?: string;
}

/** What the stack learned about one request, for metrics and logs. */
export interface RequestContext {
  readonly direction: 'inbound' | 'outbound';
  readonly startedAt: bigint;
  destinationService: string | undefined;
  destinationWorkload: string | undefined;
  /** The cluster's subset ("" for the whole service). */
  destinationSubset: string | undefined;
  /** Who sent the request: the calling workload inbound (peer metadata), undefined outbound (this workload). */
  source: WorkloadLabels | undefined;
  /** The answer's gRPC status, when it carried one. */
  grpcStatus: string | undefined;
  /** Body bytes received from the caller and sent back to it. */
  requestBytes: number;
  responseBytes: number;
  routeName: string | undefined;
  clusterName: string | undefined;
  upstreamAddress: string | undefined;
  /** Attempts made so far (1 for the first try). */
  attempt: number;
  /** Endpoints earlier attempts of this request used, so a retry can go elsewhere. */
  tried: Set<object> | undefined;
  /** Envoy-style flag the stack chose for an upstream answer it passed on (e.g. URX). */
  flag: string | undefined;
  /** The upstream's SPIFFE ID, verified over mTLS. */
  upstreamPeer: string | undefined;
  /** The request as it arrived, its id and trace, for spans and access logs. */
  telemetry: RequestTelemetry | undefined;
}

export type Handler = (request: ProxyRequest, context: RequestContext) => Promise<ProxyResponse>;
export type Layer = (next: Handler) => Handler;

/** compose(a, b, c)(h) = a(b(c(h))): the first layer sees the request first. */
export function compose(...layers: Layer[]): Layer {
  return (handler) => layers.reduceRight((next, layer) => layer(next), handler);
}

export function newContext(direction: RequestContext['direction']): RequestContext {
  return {
    direction,
    startedAt: process.hrtime.bigint(),
    destinationService: undefined,
    destinationWorkload: undefined,
    destinationSubset: undefined,
    source: undefined,
    grpcStatus: undefined,
    requestBytes: 0,
    responseBytes: 0,
    routeName: undefined,
    clusterName: undefined,
    upstreamAddress: undefined,
    attempt: 0,
    tried: undefined,
    flag: undefined,
    upstreamPeer: undefined,
    telemetry: undefined,
  };
}
