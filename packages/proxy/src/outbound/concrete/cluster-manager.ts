// The concrete side of outbound: for each cluster, a handler that picks an endpoint with the
// cluster's balancer and forwards to it over the shared pools. Rebuilt from configuration when
// clusters or endpoints change; endpoint state (requests in flight) survives rebuilds.
import type { ConfigStore } from '../../config/config-store.ts';
import type { EndpointConfig } from '../../config/resources/endpoints.ts';
import { ProxyError, ProxyErrorKind } from '../../errors.ts';
import type { Handler } from '../../http/handler.ts';
import { formatHostPort } from '@weft/runtime';
import { forward } from '../endpoint/forward.ts';
import type { MtlsTarget } from '../endpoint/mtls-connector.ts';
import type { UpstreamPools } from '../endpoint/upstream-pools.ts';
import { createPicker, type EndpointState } from './balancers.ts';

/** Header naming the application port when connecting to a peer's sidecar directly. */
export const TARGET_PORT_HEADER = 'weft-target-port';

export interface ClusterView {
  readonly name: string;
  readonly endpoints: readonly EndpointState[];
}

function endpointKey(endpoint: EndpointConfig): string {
  return `${formatHostPort({ host: endpoint.connectHost, port: endpoint.connectPort })}/${endpoint.port}`;
}

export class ClusterManager {
  private readonly store: ConfigStore;
  private readonly pools: UpstreamPools;
  private handlers = new Map<string, Handler>();
  private views: ClusterView[] = [];
  private endpointStates = new Map<string, EndpointState>();

  constructor(store: ConfigStore, pools: UpstreamPools) {
    this.store = store;
    this.pools = pools;
    store.onChange((kind) => {
      if (kind === 'cluster' || kind === 'endpoints') this.rebuild();
    });
  }

  /** The handler of cluster `name`; unknown clusters answer NC (the route may be ahead of CDS). */
  dispatch: Handler = (request, context) => {
    const handler = this.handlers.get(context.clusterName ?? '');
    if (!handler) return Promise.reject(new ProxyError(ProxyErrorKind.NO_CLUSTER, `no cluster ${context.clusterName ?? ''}`));
    return handler(request, context);
  };

  clusters(): readonly ClusterView[] {
    return this.views;
  }

  private rebuild(): void {
    const handlers = new Map<string, Handler>();
    const views: ClusterView[] = [];
    const states = new Map<string, EndpointState>();
    const addresses = new Set<string>();
    for (const [name, cluster] of this.store.values('cluster')) {
      const mtls: MtlsTarget = { identities: cluster.peerIdentities, servername: cluster.service };
      const endpoints = (this.store.get('endpoints', name)?.endpoints ?? []).map((config) => {
        const key = endpointKey(config);
        // The same object across rebuilds, so requests in flight settle its count.
        const state: EndpointState = states.get(key) ?? this.endpointStates.get(key) ?? { config, active: 0 };
        state.config = config;
        states.set(key, state);
        addresses.add(this.pools.key(config.connectHost, config.connectPort, config.mtls ? mtls : undefined));
        return state;
      });
      handlers.set(name, this.clusterHandler(name, createPicker(cluster.lbPolicy, endpoints), mtls));
      views.push({ name, endpoints });
    }
    this.handlers = handlers;
    this.views = views;
    this.endpointStates = states;
    this.pools.retain(addresses);
  }

  private clusterHandler(name: string, pick: () => EndpointState | undefined, mtls: MtlsTarget): Handler {
    return async (request, context) => {
      const endpoint = pick();
      if (!endpoint) throw new ProxyError(ProxyErrorKind.NO_HEALTHY_UPSTREAM, `no ready endpoint in ${name}`);
      const { config } = endpoint;
      const address = formatHostPort({ host: config.connectHost, port: config.connectPort });
      context.upstreamAddress = address;
      context.destinationWorkload = config.workload;
      endpoint.active++;
      try {
        const extra = config.viaSidecar ? { [TARGET_PORT_HEADER]: String(config.port) } : undefined;
        const pool = this.pools.get(config.connectHost, config.connectPort, config.mtls ? mtls : undefined);
        const response = await forward(pool, address, request, extra);
        if (response.body) response.body.once('close', () => endpoint.active--);
        else endpoint.active--;
        return response;
      } catch (error) {
        endpoint.active--;
        throw error;
      }
    };
  }
}
