// Sends one request over a pool and maps transport failures to proxy errors: a refused or
// timed-out connect is UF, a connection lost mid-request is UC, an abort is whatever aborted it
// (a deadline, or the caller leaving).
import type { Pool } from 'undici';
import { ProxyError, ProxyErrorKind } from '../../errors.ts';
import type { HeaderMap, ProxyRequest, ProxyResponse } from '../../http/handler.ts';
import { forwardableHeaders } from '../../http/headers.ts';

const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT', 'WEFT_ERR_PEER_IDENTITY']);

/** TLS handshake and certificate verification failures: the connection never carried a request. */
function isTlsFailure(code: string): boolean {
  return code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.includes('CERT') || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY';
}

function upstreamError(error: unknown, signal: AbortSignal, address: string): unknown {
  if (signal.aborted) {
    return signal.reason instanceof ProxyError ? signal.reason : new ProxyError(ProxyErrorKind.DOWNSTREAM_GONE, 'caller went away', { cause: error });
  }
  const code = (error as { code?: string }).code ?? '';
  if (CONNECT_FAILURES.has(code) || isTlsFailure(code)) return new ProxyError(ProxyErrorKind.UPSTREAM_CONNECT_FAILURE, `cannot connect to ${address}: ${(error as Error).message} (${code})`, { cause: error });
  return new ProxyError(ProxyErrorKind.UPSTREAM_RESET, `connection to ${address} failed: ${(error as Error).message}`, { cause: error });
}

export async function forward(pool: Pool, address: string, request: ProxyRequest, extraHeaders?: HeaderMap): Promise<ProxyResponse> {
  const headers: HeaderMap = { ...request.headers, host: request.authority, ...extraHeaders };
  try {
    const response = await pool.request({
      method: request.method,
      path: request.path,
      headers: headers as Record<string, string | string[]>,
      body: request.body,
      signal: request.signal,
    });
    return { status: response.statusCode, headers: forwardableHeaders(response.headers), body: response.body };
  } catch (error) {
    throw upstreamError(error, request.signal, address);
  }
}
