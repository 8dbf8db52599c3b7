// One kind of Kubernetes object, listed and watched into a local cache with @kubernetes/client-node's
// ListWatch. The client resumes a closed watch and relists on 410 Gone by itself, but on any
// other error (HTTP 5xx, a refused connection, a failing list) it reports the error and stops
// for good; this wrapper starts it again with capped exponential backoff. A restart resumes
// from the last resourceVersion, so a watch dropped between events loses none of them.
import { ADD, DELETE, ERROR, ListWatch, UPDATE, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError } from '../../kubernetes/api-errors.ts';
import type { RegistryMetrics } from '../../metrics/controlplane-metrics.ts';

export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_WATCH_BACKOFF: Backoff = { baseMs: 500, maxMs: 30_000 };

/** An error this long after the previous one starts the backoff over. */
const STABLE_MS = 60_000;

export interface ResourceWatchStatus {
  readonly path: string;
  readonly synced: boolean;
  readonly objects: number;
  readonly restarts: number;
  readonly lastError: string | undefined;
}

export interface ResourceWatchOptions<T extends KubernetesObject> {
  readonly kubeConfig: KubeConfig;
  /** The collection's URL path, e.g. /api/v1/services. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly log: Logger;
  /** Called after the first sync and after every change to the cache that follows. */
  readonly onChange: () => void;
  readonly backoff?: Backoff;
  readonly metrics?: Pick<RegistryMetrics, 'informerEvent'>;
}

export class ResourceWatch<T extends KubernetesObject> {
  readonly path: string;
  private readonly informer: ListWatch<T>;
  private readonly options: ResourceWatchOptions<T>;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  /** The collection, as metrics name it: the path's last segment (services, trafficroutes...). */
  private readonly resource: string;
  private syncedOnce = false;
  private resolveSynced!: () => void;
  /** Resolves once the first list is in the cache. */
  readonly synced = new Promise<void>((resolve) => (this.resolveSynced = resolve));
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private lastErrorAt = 0;
  private restarts = 0;
  private lastError: string | undefined;

  constructor(options: ResourceWatchOptions<T>) {
    this.options = options;
    this.path = options.path;
    this.backoff = options.backoff ?? DEFAULT_WATCH_BACKOFF;
    this.delayMs = this.backoff.baseMs;
    this.log = options.log.child({ watch: options.path });
    this.resource = options.path.slice(options.path.lastIndexOf('/') + 1);
    // ListWatch announces CONNECT before it lists, so the first sync is known from the list itself:
    // its items are in the cache by the time callbacks queued after it run.
    const list = async (): Promise<KubernetesListObject<T>> => {
      const result = await options.list();
      setImmediate(() => this.onListed());
      return result;
    };
    this.informer = new ListWatch(options.path, new Watch(options.kubeConfig), list, false);
    for (const event of [ADD, UPDATE, DELETE] as const) {
      this.informer.on(event, () => {
        options.metrics?.informerEvent(this.resource, event);
        if (this.syncedOnce) options.onChange();
      });
    }
    this.informer.on(ERROR, (error: unknown) => this.onError(error));
  }

  start(): void {
    void this.informer.start();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    void this.informer.stop();
  }

  isSynced(): boolean {
    return this.syncedOnce;
  }

  list(): readonly T[] {
    return this.informer.list();
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  status(): ResourceWatchStatus {
    return { path: this.path, synced: this.syncedOnce, objects: this.informer.list().length, restarts: this.restarts, lastError: this.lastError };
  }

  private onListed(): void {
    if (this.stopped) return;
    if (!this.syncedOnce) {
      this.syncedOnce = true;
      this.log.info({ objects: this.informer.list().length }, 'initial list synced');
      this.resolveSynced();
    }
    this.options.onChange();
  }

  private onError(error: unknown): void {
    if (this.stopped) return;
    this.options.metrics?.informerEvent(this.resource, ERROR);
    const now = Date.now();
    if (now - this.lastErrorAt > STABLE_MS) this.delayMs = this.backoff.baseMs;
    this.lastErrorAt = now;
    this.lastError = describeError(error);
    const delayMs = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.backoff.maxMs);
    this.log.warn({ error: this.lastError, retryInMs: delayMs }, 'watch failed; restarting');
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopped) return;
      this.restarts++;
      void this.informer.start();
    }, delayMs);
  }
}
