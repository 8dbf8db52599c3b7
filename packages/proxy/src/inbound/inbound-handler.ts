// Inbound: requests for the proxy's own workload. The application port comes from the
// weft-target-port header a peer sidecar sets when it connects directly (no capture), or is
// the workload's only port; it must be one of the ports the control plane declared, so the
// sidecar never opens other local ports (such as ones bound to localhost only) to callers.
import type { ConfigStore } from '../config/config-store.ts';
import type { InboundListenerConfig } from '../config/resources/listener.ts';
import { ProxyError, ProxyErrorKind } from '../errors.ts';
import type { Handler } from '../http/handler.ts';
import type { Authorizer } from './authorization.ts';
import { formatHostPort } from '@weft/runtime';
import { TARGET_PORT_HEADER } from '../outbound/concrete/cluster-manager.ts';
import type { UpstreamPools } from '../outbound/endpoint/upstream-pools.ts';

export interface InboundOptions {
  readonly store: ConfigStore;
  readonly pools: UpstreamPools;
  readonly authorizer: Authorizer;
  readonly appHost: string;
  readonly workload: string;
}

export function inboundHandler(options: InboundOptions): Handler {
  const { store, pools, authorizer, appHost, workload } = options;
  let ports = new Map<number, InboundListenerConfig>();
  store.onChange((kind) => {
    if (kind === 'listener') ports = new Map([...store.values('listener').values()].map((listener) => [listener.port, listener]));
  });
  return (request, context) => {
    context.destinationWorkload = workload;
    if (store.version('listener') === '') return Promise.reject(new ProxyError(ProxyErrorKind.NO_CONFIG, 'no configuration received from the control plane yet'));
    const named = request.headers[TARGET_PORT_HEADER];
    const port = typeof named === 'string' ? Number(named) : ports.size === 1 ? ports.keys().next().value : undefined;
    const listener = port === undefined ? undefined : ports.get(port);
    if (!listener) {
      const which = port === undefined ? 'no application port named' : `port ${String(named)} is not a port of ${workload}`;
      return Promise.reject(new ProxyError(ProxyErrorKind.NO_ROUTE, `inbound: ${which} (ports: ${[...ports.keys()].join(', ') || 'none'})`));
    }
    if (listener.tlsMode === 'STRICT' && !request.security.mtls) {
      return Promise.reject(new ProxyError(ProxyErrorKind.MTLS_REQUIRED, `port ${listener.port} accepts mutual TLS only`));
    }
    const peer = request.security.peer;
    const query = request.path.indexOf('?');
    const decision = authorizer.decide({
      principal: peer?.spiffeId,
      namespace: peer?.namespace,
      method: request.method,
      path: query === -1 ? request.path : request.path.slice(0, query),
      port: listener.port,
    });
    if (!decision.allowed) return Promise.reject(new ProxyError(ProxyErrorKind.ACCESS_DENIED, `access denied: ${decision.reason}`));
    const headers = { ...request.headers };
    delete headers[TARGET_PORT_HEADER];
    const address = formatHostPort({ host: appHost, port: listener.port });
    context.upstreamAddress = address;
    const protocol = listener.protocol === 'HTTP2' || listener.protocol === 'GRPC' ? 'h2' : 'http1';
    return pools.get({ host: appHost, port: listener.port, protocol }).send({ ...request, headers });
  };
}
