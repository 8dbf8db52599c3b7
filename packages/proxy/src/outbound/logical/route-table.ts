// The logical side of outbound: which service the caller meant (by Host and port), and which
// of its routes applies. Each route's handler stack is composed once, when routes change.
import type { ConfigStore } from '../../config/config-store.ts';
import type { RouteConfig, VirtualHostConfig } from '../../config/resources/route.ts';
import { ProxyError, ProxyErrorKind } from '../../errors.ts';
import { compose, type Handler, type Layer, type ProxyRequest, type RequestContext } from '../../http/handler.ts';
import { parseAuthority } from '../../http/headers.ts';
import type { OriginalDestination } from '@weft/original-dst';
import { faultLayer } from './fault.ts';
import { headerEditsLayer } from './header-edits.ts';
import { mirrorLayer, type MirrorStats } from './mirror.ts';
import { retryLayer, type RetryBudgets } from './retry.ts';
import { timeoutLayer } from './timeout.ts';
import { clusterChooser, weightedSplit } from './weighted-split.ts';
import type { OnDemandDiscovery } from '../../xds/on-demand-discovery.ts';

interface CompiledRoute {
  readonly config: RouteConfig;
  readonly handler: Handler;
  /** For tunnels (Upgrade, CONNECT), which bypass the HTTP layers: a cluster by weight. */
  readonly chooseCluster: () => string;
}

interface CompiledVirtualHost {
  readonly config: VirtualHostConfig;
  readonly routes: readonly CompiledRoute[];
}

type LookupFacts = Pick<ProxyRequest, 'authority' | 'method' | 'path' | 'headers' | 'connection'>;

/** The port a Host header without one implies. */
const DEFAULT_HTTP_PORT = 80;

export class RouteTable {
  readonly mirrorStats: MirrorStats = { sent: 0, failed: 0, skipped: 0 };
  private readonly store: ConfigStore;
  private readonly dispatch: Handler;
  private readonly budgets: RetryBudgets;
  private readonly discovery: OnDemandDiscovery | undefined;
  private byAuthority = new Map<string, CompiledVirtualHost>();

  /** With `discovery`, authorities are looked up on demand; without, the store holds every service. */
  constructor(store: ConfigStore, dispatch: Handler, budgets: RetryBudgets, discovery?: OnDemandDiscovery) {
    this.store = store;
    this.dispatch = dispatch;
    this.budgets = budgets;
    this.discovery = discovery;
    store.onChange((kind) => {
      if (kind === 'route') this.rebuild();
    });
  }

  handler: Handler = async (request, context) => {
    const keys = this.lookupKeys(request);
    const waiting = this.discovery?.ensure(keys);
    if (waiting) await waiting;
    return this.route(keys, request, context).handler(request, context);
  };

  /**
   * The service port at a virtual IP and port (where a captured connection was headed), if any.
   * Rejects with NCFG when the control plane has not said whether there is one.
   */
  async virtualHostAt(destination: OriginalDestination): Promise<VirtualHostConfig | undefined> {
    const key = `${destination.address}:${destination.port}`;
    if (!this.discovery) return this.byAuthority.get(key)?.config;
    await this.discovery.ensure([key]);
    const found = this.byAuthority.get(key)?.config;
    if (!found && !this.discovery.isAnswered([key])) throw new ProxyError(ProxyErrorKind.NO_CONFIG, `the control plane has not answered about ${key} yet`);
    return found;
  }

  /** The route a request takes; rejects with NCFG, DPE or NR. Records service and route in `context`. */
  async resolve(request: LookupFacts, context: RequestContext): Promise<CompiledRoute> {
    const keys = this.lookupKeys(request);
    await this.discovery?.ensure(keys);
    return this.route(keys, request, context);
  }

  /**
   * The "host:port" keys a request's service is looked up by, in order: the Host header names
   * the service; a captured connection's original destination supplies the port a Host without
   * one leaves out, and the service when the Host names none.
   */
  private lookupKeys(request: LookupFacts): string[] {
    if (!this.store.complete) throw new ProxyError(ProxyErrorKind.NO_CONFIG, 'no configuration received from the control plane yet');
    const authority = parseAuthority(request.authority);
    if (!authority) throw new ProxyError(ProxyErrorKind.BAD_REQUEST, `invalid Host "${request.authority}"`);
    const destination = request.connection.originalDestination;
    const keys = [`${authority.host}:${authority.port ?? destination?.port ?? DEFAULT_HTTP_PORT}`];
    if (destination) keys.push(`${destination.address}:${destination.port}`);
    return keys;
  }

  private route(keys: readonly string[], request: LookupFacts, context: RequestContext): CompiledRoute {
    const virtualHost = this.byAuthority.get(keys[0] as string) ?? (keys[1] === undefined ? undefined : this.byAuthority.get(keys[1]));
    if (!virtualHost) {
      if (this.discovery && !this.discovery.isAnswered(keys)) throw new ProxyError(ProxyErrorKind.NO_CONFIG, `the control plane has not answered about ${keys.join(' or ')} yet`);
      const asked = keys[0] as string;
      const colon = asked.lastIndexOf(':');
      throw new ProxyError(ProxyErrorKind.NO_ROUTE, `no service ${asked.slice(0, colon)} on port ${asked.slice(colon + 1)} in this mesh`);
    }
    context.destinationService = virtualHost.config.service;
    const query = request.path.indexOf('?');
    const facts = {
      method: request.method,
      path: query === -1 ? request.path : request.path.slice(0, query),
      query: query === -1 ? '' : request.path.slice(query + 1),
      headers: request.headers,
    };
    const route = virtualHost.routes.find((candidate) => candidate.config.matches(facts));
    if (!route) throw new ProxyError(ProxyErrorKind.NO_ROUTE, `no route of ${virtualHost.config.name} matches ${request.method} ${facts.path}`);
    context.routeName = route.config.name;
    return route;
  }

  /** header edits -> timeout -> fault -> mirror -> split -> retries -> cluster, each only when configured. */
  private compile(route: RouteConfig): CompiledRoute {
    const layers: Layer[] = [];
    if (route.requestHeaders || route.responseHeaders) layers.push(headerEditsLayer(route.requestHeaders, route.responseHeaders));
    if (route.timeoutMs > 0) layers.push(timeoutLayer(route.timeoutMs));
    if (route.fault) layers.push(faultLayer(route.fault));
    if (route.mirror) layers.push(mirrorLayer(route.mirror, this.dispatch, this.mirrorStats));
    const toCluster = route.retries ? retryLayer(route.retries, this.budgets)(this.dispatch) : this.dispatch;
    return { config: route, handler: compose(...layers)(weightedSplit(route.clusters, toCluster)), chooseCluster: clusterChooser(route.clusters) };
  }

  private rebuild(): void {
    const byAuthority = new Map<string, CompiledVirtualHost>();
    for (const config of this.store.values('route').values()) {
      const compiled = { config, routes: config.routes.map((route) => this.compile(route)) };
      for (const domain of config.domains) byAuthority.set(`${domain}:${config.port}`, compiled);
    }
    this.byAuthority = byAuthority;
  }
}
