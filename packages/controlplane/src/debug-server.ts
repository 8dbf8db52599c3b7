// The control plane's HTTP endpoint (15014): readiness and debug views an operator (or
// `weft proxy-status`) reads. JSON only; never carries keys or tokens.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AdsServer } from './xds/ads-server.ts';
import type { MeshRegistry } from './registry/mesh-registry.ts';

export function createDebugServer(options: { ads: AdsServer; registry: MeshRegistry; ready: () => boolean }): Server {
  const routes: Record<string, () => [number, unknown]> = {
    '/ready': () => (options.ready() ? [200, { ready: true }] : [503, { ready: false }]),
    '/debug/syncz': () => [200, { proxies: options.ads.status() }],
    '/debug/registry': () => [200, options.registry.status()],
  };
  return createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0] as string;
    const route = routes[path];
    const [status, body] = route ? route() : [404, { error: `no such endpoint; try ${Object.keys(routes).join(', ')}` }];
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(`${JSON.stringify(body, null, 2)}\n`);
  });
}
