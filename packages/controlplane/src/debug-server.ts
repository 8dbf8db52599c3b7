// The control plane's HTTP endpoint (15014): readiness and debug views an operator (or
// `weft proxy-status`) reads, in JSON, and the Prometheus metrics. Never carries keys or tokens.
import type { Server } from 'node:http';
import { createJsonServer, prometheusEndpoint } from '@weft/runtime';
import type { CaStatus } from './ca/ca-status.ts';
import type { ControlPlaneMetrics } from './metrics/controlplane-metrics.ts';
import type { MeshRegistry } from './registry/mesh-registry.ts';
import type { AdsServer } from './xds/ads-server.ts';

export function createDebugServer(options: { ads: AdsServer; registry: MeshRegistry; ready: () => boolean; ca: (() => CaStatus) | undefined; metrics?: ControlPlaneMetrics }): Server {
  const { ca } = options;
  return createJsonServer({
    ...(options.metrics && { '/metrics': prometheusEndpoint(options.metrics.prometheus) }),
    '/ready': () => (options.ready() ? [200, { ready: true }] : [503, { ready: false }]),
    // `now` lets `weft check` measure clock skew to the millisecond (Date has whole seconds).
    '/debug/syncz': () => [200, { now: new Date().toISOString(), proxies: options.ads.status() }],
    '/debug/registry': () => [200, options.registry.status()],
    '/debug/ca': () => (ca ? [200, ca()] : [404, { error: 'this control plane runs without a CA (--ca-dir)' }]),
  });
}
