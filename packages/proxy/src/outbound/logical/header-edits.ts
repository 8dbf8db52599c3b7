// Header edits of a route (Istio's headers.request / headers.response): remove, then set,
// then add — applied to the request before it leaves and to the response before it returns.
import type { HeaderEdits } from '../../config/resources/route-policies.ts';
import type { HeaderMap, Layer } from '../../http/handler.ts';

export function applyHeaderEdits(headers: HeaderMap, edits: HeaderEdits): HeaderMap {
  const out: HeaderMap = { ...headers };
  for (const name of edits.remove) delete out[name];
  for (const [name, value] of edits.set) out[name] = value;
  for (const [name, value] of edits.add) {
    const existing = out[name];
    out[name] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return out;
}

export function headerEditsLayer(request: HeaderEdits | undefined, response: HeaderEdits | undefined): Layer {
  return (next) => async (incoming, context) => {
    const result = await next(request ? { ...incoming, headers: applyHeaderEdits(incoming.headers, request) } : incoming, context);
    return response ? { ...result, headers: applyHeaderEdits(result.headers, response) } : result;
  };
}
