// Sends one request over an HTTP/1.1 keep-alive pool (undici).
import type { Pool } from 'undici';
import type { HeaderMap, ProxyRequest, ProxyResponse } from '../../http/handler.ts';
import { forwardableHeaders } from '../../http/headers.ts';
import { upstreamError } from './upstream-errors.ts';

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
    const trailers = response.trailers;
    return { status: response.statusCode, headers: forwardableHeaders(response.headers), body: response.body, trailers: () => (Object.keys(trailers).length > 0 ? (trailers) : undefined) };
  } catch (error) {
    throw upstreamError(error, request.signal, address);
  }
}
