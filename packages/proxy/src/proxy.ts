// Composition of the sidecar: configuration (xDS client -> ConfigStore), the outbound stack
// (route table -> cluster manager -> pools), the inbound stack, and the admin and stats ports.
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { logListening, type HostPort, type Logger } from '@weft/runtime';
import { createAdminServer } from './admin/admin-server.ts';
import { ConfigStore } from './config/config-store.ts';
import { createProxyServer } from './http/serve.ts';
import { inboundHandler } from './inbound/inbound-handler.ts';
import { createStatsServer, ProxyMetrics } from './metrics/proxy-metrics.ts';
import { ClusterManager } from './outbound/concrete/cluster-manager.ts';
import { UpstreamPools } from './outbound/endpoint/upstream-pools.ts';
import { RouteTable } from './outbound/logical/route-table.ts';
import { AdsClient } from './xds/ads-client.ts';

export const PROXY_VERSION = '0.1.0';

export interface ProxyOptions {
  readonly workload: string;
  readonly namespace: string;
  readonly xdsAddress: HostPort;
  readonly outboundAddress: HostPort;
  readonly inboundAddress: HostPort;
  readonly adminAddress: HostPort;
  readonly statsAddress: HostPort;
  /** Where the local application listens (its ports come from configuration). */
  readonly appHost: string;
  readonly log: Logger;
  readonly xdsBackoff?: { readonly baseMs: number; readonly maxMs: number };
}

export type BoundProxy = Record<'outbound' | 'inbound' | 'admin' | 'stats', HostPort>;

async function listen(server: Server, name: string, address: HostPort, log: Logger): Promise<HostPort> {
  server.listen(address.port, address.host);
  await once(server, 'listening');
  const bound = { host: address.host, port: (server.address() as AddressInfo).port };
  logListening(log, name, bound);
  return bound;
}

export class Proxy {
  readonly store = new ConfigStore();
  readonly metrics = new ProxyMetrics();
  private readonly options: ProxyOptions;
  private readonly outboundPools = new UpstreamPools();
  private readonly inboundPools = new UpstreamPools();
  private readonly ads: AdsClient;
  private readonly servers: Record<keyof BoundProxy, Server>;

  constructor(options: ProxyOptions) {
    this.options = options;
    const { log, workload, namespace } = options;
    this.ads = new AdsClient({ address: options.xdsAddress, node: { workload, namespace, proxyVersion: PROXY_VERSION }, store: this.store, log: log.child({ module: 'xds' }), backoff: options.xdsBackoff });
    const clusters = new ClusterManager(this.store, this.outboundPools);
    const routes = new RouteTable(this.store, clusters.dispatch);
    const onComplete = this.metrics.record.bind(this.metrics);
    this.servers = {
      outbound: createProxyServer({ direction: 'outbound', handler: routes.handler, log, onComplete }),
      inbound: createProxyServer({
        direction: 'inbound',
        handler: inboundHandler({ store: this.store, pools: this.inboundPools, appHost: options.appHost, workload: `${workload}.${namespace}` }),
        log,
        onComplete,
      }),
      admin: createAdminServer({ store: this.store, ads: this.ads, clusters, identity: { workload, namespace } }),
      stats: createStatsServer(this.metrics),
    };
  }

  async start(): Promise<BoundProxy> {
    const { log } = this.options;
    // Listeners first: before configuration arrives, they answer 503 rather than refuse.
    const bound = {
      outbound: await listen(this.servers.outbound, 'outbound', this.options.outboundAddress, log),
      inbound: await listen(this.servers.inbound, 'inbound', this.options.inboundAddress, log),
      admin: await listen(this.servers.admin, 'admin', this.options.adminAddress, log),
      stats: await listen(this.servers.stats, 'stats', this.options.statsAddress, log),
    };
    this.ads.start();
    return bound;
  }

  async stop(): Promise<void> {
    this.ads.stop();
    for (const server of Object.values(this.servers)) {
      server.close();
      server.closeIdleConnections();
    }
    await Promise.all([this.outboundPools.close(), this.inboundPools.close()]);
  }
}
