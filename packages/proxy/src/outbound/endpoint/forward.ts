// Sends one request over an HTTP/1.1 keep-alive pool (undici).
import { Duplex, PassThrough, type Readable } from 'node:stream';
import type { Pool } from 'undici';
import type { HeaderMap, ProxyRequest, ProxyResponse } from '../../http/handler.ts';
import { forwardableHeaders } from '../../http/headers.ts';
import { upstreamError } from './upstream-errors.ts';

/**
 * undici destroys a request body once it has sent it. An HTTP/2 stream is both the request
 * body and the way back for the response, so undici gets a readable view of it instead.
 */
function bodyForUndici(body: Readable | null): Readable | null {
  if (!(body instanceof Duplex)) return body;
  const view = new PassThrough();
  body.once('error', (error) => view.destroy(error));
  return body.pipe(view);
}

export async function forward(pool: Pool, address: string, request: ProxyRequest, extraHeaders?: HeaderMap): Promise<ProxyResponse> {
  const headers: HeaderMap = { ...request.headers, host: request.authority, ...extraHeaders };
  try {
    const response = await pool.request({
      method: request.method,
      path: request.path,
      headers: headers as Record<string, string | string[]>,
      body: bodyForUndici(request.body),
      signal: request.signal,
    });
    // undici fills `trailers` in place as the chunked body ends.
    const trailers = response.trailers as HeaderMap;
    const ended = new Promise<HeaderMap | undefined>((resolve) => response.body.once('close', () => resolve(Object.keys(trailers).length > 0 ? trailers : undefined)));
    return { status: response.statusCode, headers: forwardableHeaders(response.headers), body: response.body, trailers: () => ended };
  } catch (error) {
    throw upstreamError(error, request.signal, address);
  }
}
