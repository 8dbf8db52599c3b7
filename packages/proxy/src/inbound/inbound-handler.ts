// Inbound: requests for the proxy's own workload. The application port comes from the
// weft-target-port header a peer sidecar sets when it connects directly (no capture), or is
// the workload's only port; it must be one of the ports the control plane declared.
import type { ConfigStore } from '../config/config-store.ts';
import { ProxyError, ProxyErrorKind } from '../errors.ts';
import type { Handler } from '../http/handler.ts';
import { formatHostPort } from '@weft/runtime';
import { TARGET_PORT_HEADER } from '../outbound/concrete/cluster-manager.ts';
import { forward } from '../outbound/endpoint/forward.ts';
import type { UpstreamPools } from '../outbound/endpoint/upstream-pools.ts';

export function inboundHandler(options: { store: ConfigStore; pools: UpstreamPools; appHost: string; workload: string }): Handler {
  const { store, pools, appHost, workload } = options;
  return (request, context) => {
    context.destinationWorkload = workload;
    if (store.state('listener').version === '') return Promise.reject(new ProxyError(ProxyErrorKind.NO_CONFIG, 'no configuration received from the control plane yet'));
    const listeners = [...store.values('listener').values()];
    const named = request.headers[TARGET_PORT_HEADER];
    let port: number | undefined;
    if (typeof named === 'string') port = Number(named);
    else if (listeners.length === 1) port = listeners[0]?.port;
    const listener = listeners.find((candidate) => candidate.port === port);
    if (!listener) {
      const which = port === undefined ? 'no application port named' : `port ${named as string} is not a port of ${workload}`;
      return Promise.reject(new ProxyError(ProxyErrorKind.NO_ROUTE, `inbound: ${which} (ports: ${listeners.map((l) => l.port).join(', ') || 'none'})`));
    }
    const headers = { ...request.headers };
    delete headers[TARGET_PORT_HEADER];
    const address = formatHostPort({ host: appHost, port: listener.port });
    context.upstreamAddress = address;
    return forward(pools.get(appHost, listener.port), address, { ...request, headers });
  };
}
