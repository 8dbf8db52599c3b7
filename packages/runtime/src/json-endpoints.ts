// A small read-only HTTP server of JSON endpoints, for admin and debug ports.
import { createServer, type RequestListener, type Server } from 'node:http';

/** Path -> [status, body]; bodies are serialised as indented JSON. */
export type JsonEndpoints = Readonly<Record<string, () => readonly [number, unknown]>>;

/** `others`: paths that answer in another format (Prometheus text) with their own listener. */
export function createJsonServer(endpoints: JsonEndpoints, others: Readonly<Record<string, RequestListener>> = {}): Server {
  return createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] as string;
    const other = others[path];
    if (other) {
      other(request, response);
      return;
    }
    const endpoint = endpoints[path];
    const [status, body] = endpoint ? endpoint() : [404, { error: `no such endpoint; try ${[...Object.keys(endpoints), ...Object.keys(others)].join(', ')}` }];
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(`${JSON.stringify(body, null, 2)}\n`);
  });
}
