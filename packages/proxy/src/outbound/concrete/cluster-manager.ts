// The concrete side of outbound: one UpstreamCluster per cluster, rebuilt from configuration
// when clusters or endpoints change. Endpoint state (requests in flight, health) survives
// rebuilds, keyed by where the endpoint is reached.
import type { ConfigStore } from '../../config/config-store.ts';
import type { EndpointConfig } from '../../config/resources/endpoints.ts';
import { ProxyError, ProxyErrorKind } from '../../errors.ts';
import type { Handler } from '../../http/handler.ts';
import { formatHostPort } from '@weft/runtime';
import type { UpstreamPools } from '../endpoint/upstream-pools.ts';
import { newEndpointState, type EndpointState } from './balancers.ts';
import { UpstreamCluster } from './upstream-cluster.ts';

export { TARGET_PORT_HEADER } from './upstream-cluster.ts';

function endpointKey(endpoint: EndpointConfig): string {
  return `${formatHostPort({ host: endpoint.connectHost, port: endpoint.connectPort })}/${endpoint.port}`;
}

export class ClusterManager {
  private readonly store: ConfigStore;
  private readonly pools: UpstreamPools;
  /** "<workload>.<namespace>" of this proxy, named to peer sidecars for their metrics. */
  private readonly localWorkload: string;
  private clustersByName = new Map<string, UpstreamCluster>();
  private endpointStates = new Map<string, EndpointState>();

  constructor(store: ConfigStore, pools: UpstreamPools, localWorkload: string) {
    this.store = store;
    this.pools = pools;
    this.localWorkload = localWorkload;
    store.onChange((kind) => {
      if (kind === 'cluster' || kind === 'endpoints') this.rebuild();
    });
  }

  /** Forwards to the cluster the route chose; unknown clusters answer NC (the route may be ahead of CDS). */
  dispatch: Handler = (request, context) => {
    const cluster = this.clustersByName.get(context.clusterName ?? '');
    if (!cluster) return Promise.reject(new ProxyError(ProxyErrorKind.NO_CLUSTER, `no cluster ${context.clusterName ?? ''}`));
    return cluster.handle(request, context);
  };

  cluster(name: string): UpstreamCluster | undefined {
    return this.clustersByName.get(name);
  }

  /** RetryBudgets: a retry to `cluster` may start when its budget allows. */
  startRetry(cluster: string): (() => void) | undefined {
    return this.clustersByName.get(cluster)?.startRetry();
  }

  clusters(): readonly UpstreamCluster[] {
    return [...this.clustersByName.values()];
  }

  private rebuild(): void {
    const clusters = new Map<string, UpstreamCluster>();
    const states = new Map<string, EndpointState>();
    const poolKeys = new Set<string>();
    for (const [name, config] of this.store.values('cluster')) {
      const endpoints = (this.store.get('endpoints', name)?.endpoints ?? []).map((endpoint) => {
        const key = endpointKey(endpoint);
        // The same object across rebuilds, so requests in flight settle its count.
        const state = states.get(key) ?? this.endpointStates.get(key) ?? newEndpointState(endpoint);
        state.config = endpoint;
        states.set(key, state);
        return state;
      });
      const cluster = new UpstreamCluster(config, endpoints, { pools: this.pools, localWorkload: this.localWorkload }, this.clustersByName.get(name));
      for (const key of cluster.poolKeys()) poolKeys.add(key);
      clusters.set(name, cluster);
    }
    for (const [name, cluster] of this.clustersByName) if (!clusters.has(name)) cluster.stop();
    this.clustersByName = clusters;
    this.endpointStates = states;
    this.pools.retain(poolKeys);
  }
}
