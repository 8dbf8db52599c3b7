// On-demand discovery, Linkerd's model inside the ADS stream: the proxy subscribes to the
// routes of the authorities its workload actually calls ("host:port", or the virtual IP and
// port a captured connection was headed to), and to the clusters and endpoints those routes
// use. Its memory and the control plane's pushes then follow what the workload talks to, not
// the size of the mesh. A request for an authority not answered yet waits for the answer.
import type { ResourceKind } from '@weft/proto';
import type { ConfigStore } from '../config/config-store.ts';

type OnDemandKind = 'route' | 'cluster' | 'endpoints';

export interface OnDemandOptions {
  /** How long a request waits for the control plane to answer about its authority. */
  readonly answerTimeoutMs?: number;
  /** Authorities subscribed at most; the least recently added go first (an app inventing hosts must not grow the proxy). */
  readonly maxAuthorities?: number;
}

interface Waiter {
  readonly authorities: readonly string[];
  readonly settle: () => void;
}

export const DEFAULT_ANSWER_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_AUTHORITIES = 4_096;

export class OnDemandDiscovery {
  private readonly store: ConfigStore;
  private readonly answerTimeoutMs: number;
  private readonly maxAuthorities: number;
  /** Insertion order is age, for eviction. */
  private readonly authorities = new Set<string>();
  /** Clusters the held routes send to (and mirror to), sorted. */
  private clusters: string[] = [];
  /** What the last response of each kind answered. */
  private readonly answered: Record<OnDemandKind, ReadonlySet<string>> = { route: new Set(), cluster: new Set(), endpoints: new Set() };
  private clustersAnswered = true;
  private readonly waiters = new Set<Waiter>();
  private readonly subscriptionListeners = new Set<(kind: ResourceKind) => void>();

  constructor(store: ConfigStore, options: OnDemandOptions = {}) {
    this.store = store;
    this.answerTimeoutMs = options.answerTimeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS;
    this.maxAuthorities = options.maxAuthorities ?? DEFAULT_MAX_AUTHORITIES;
  }

  /** The names to subscribe to for `kind`; undefined for kinds that are not on demand. */
  names(kind: ResourceKind): string[] | undefined {
    if (kind === 'route') return [...this.authorities].sort();
    if (kind === 'cluster' || kind === 'endpoints') return [...this.clusters];
    return undefined;
  }

  /** Called with the kind whose names changed; the ADS client then re-subscribes. */
  onSubscriptionChange(listener: (kind: ResourceKind) => void): void {
    this.subscriptionListeners.add(listener);
  }

  /**
   * Records that a response of `kind`, already applied to the store, answered `names`.
   * New routes may call for new clusters: those are subscribed before waiters are released.
   */
  answer(kind: ResourceKind, names: readonly string[]): void {
    if (kind !== 'route' && kind !== 'cluster' && kind !== 'endpoints') return;
    this.answered[kind] = new Set(names);
    if (kind === 'route') this.followRoutes();
    this.clustersAnswered = this.clusters.every((name) => this.answered.cluster.has(name) && this.answered.endpoints.has(name));
    for (const waiter of this.waiters) if (this.isAnswered(waiter.authorities)) waiter.settle();
  }

  /**
   * Makes sure the control plane has answered about `authorities`: undefined when it has, else a
   * promise that settles once it has, or after the answer timeout (the caller then finds no route).
   */
  ensure(authorities: readonly string[]): Promise<void> | undefined {
    let added = false;
    for (const authority of authorities) {
      if (this.authorities.has(authority)) continue;
      this.authorities.add(authority);
      added = true;
    }
    if (this.isAnswered(authorities)) return undefined;
    if (added) {
      this.evictOldest();
      this.changed('route');
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => waiter.settle(), this.answerTimeoutMs);
      const waiter: Waiter = {
        authorities,
        settle: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Whether the control plane has said whether these authorities exist (and sent their clusters). */
  isAnswered(authorities: readonly string[]): boolean {
    return this.clustersAnswered && authorities.every((authority) => this.answered.route.has(authority));
  }

  private evictOldest(): void {
    for (const authority of this.authorities) {
      if (this.authorities.size <= this.maxAuthorities) return;
      this.authorities.delete(authority);
    }
  }

  private followRoutes(): void {
    const clusters = new Set<string>();
    for (const virtualHost of this.store.values('route').values()) {
      for (const route of virtualHost.routes) {
        for (const { cluster } of route.clusters) clusters.add(cluster);
        if (route.mirror) clusters.add(route.mirror.cluster);
      }
    }
    const next = [...clusters].sort();
    if (next.length === this.clusters.length && next.every((name, index) => name === this.clusters[index])) return;
    this.clusters = next;
    this.changed('cluster');
    this.changed('endpoints');
  }

  private changed(kind: ResourceKind): void {
    for (const listener of this.subscriptionListeners) listener(kind);
  }
}
