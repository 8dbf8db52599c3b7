// Transport failures, whatever the protocol, as proxy errors: a refused or timed-out connect
// or a failed TLS handshake is UF, an HTTP/2 stream refused before processing is UF too but
// retriable as refused-stream, a connection lost mid-request is UC, an abort is whatever
// aborted it (a deadline, or the caller leaving).
import { ProxyError, ProxyErrorKind } from '../../errors.ts';

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT', 'WEFT_ERR_PEER_IDENTITY']);

/** TLS handshake and certificate verification failures: the connection never carried a request. */
function isTlsFailure(code: string): boolean {
  return code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.includes('CERT') || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY';
}

/** A ProxyError the retry layer can recognise as refused-stream. */
export class RefusedStreamError extends ProxyError {
  readonly refusedStream = true;
}

/**
 * Whether a failure proves the upstream never received the request: a stream the peer refused
 * (GOAWAY from a draining sidecar, REFUSED_STREAM) or a connection it refused (its listener is
 * closed). Sending it again cannot run it twice.
 */
export function neverProcessed(error: unknown): boolean {
  if (error instanceof RefusedStreamError) return true;
  return error instanceof ProxyError && error.kind === ProxyErrorKind.UPSTREAM_CONNECT_FAILURE && (error.cause as { code?: string } | undefined)?.code === 'ECONNREFUSED';
}

export function upstreamError(error: unknown, signal: AbortSignal, address: string): Error {
  if (signal.aborted) {
    return signal.reason instanceof ProxyError ? signal.reason : new ProxyError(ProxyErrorKind.DOWNSTREAM_GONE, 'caller went away', { cause: error });
  }
  if (error instanceof ProxyError) return error;
  const code = (error as { code?: string }).code ?? '';
  // A stream cancelled because its session never came up: what matters is why it did not.
  const cause = (error as { cause?: unknown }).cause;
  if (code === 'ERR_HTTP2_STREAM_CANCEL' && cause instanceof Error) return upstreamError(cause, signal, address);
  const message = (error as Error).message;
  if (CONNECT_FAILURES.has(code) || isTlsFailure(code)) return new ProxyError(ProxyErrorKind.UPSTREAM_CONNECT_FAILURE, `cannot connect to ${address}: ${message} (${code})`, { cause: error });
  if (message.includes('NGHTTP2_REFUSED_STREAM')) return new RefusedStreamError(ProxyErrorKind.UPSTREAM_CONNECT_FAILURE, `${address} refused the stream`, { cause: error });
  return new ProxyError(ProxyErrorKind.UPSTREAM_RESET, `connection to ${address} failed: ${message}`, { cause: error });
}
