// Route timeout: the whole exchange, response body included, must finish within `timeoutMs`
// (Envoy's route timeout). Before the response starts the caller gets 504 UT; after, the
// response is cut off, as no status can be sent any more.
import { ProxyError, ProxyErrorKind } from '../../errors.ts';
import type { Layer } from '../../http/handler.ts';

export function timeoutLayer(timeoutMs: number): Layer {
  return (next) => async (request, context) => {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new ProxyError(ProxyErrorKind.UPSTREAM_TIMEOUT, `no complete response within ${timeoutMs}ms`)), timeoutMs);
    const signal = AbortSignal.any([request.signal, deadline.signal]);
    try {
      const response = await next({ ...request, signal }, context);
      if (!response.body) {
        clearTimeout(timer);
        return response;
      }
      response.body.once('close', () => clearTimeout(timer));
      return response;
    } catch (error) {
      clearTimeout(timer);
      throw signal.aborted && signal.reason instanceof ProxyError ? signal.reason : error;
    }
  };
}
