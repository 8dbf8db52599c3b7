// TEST DOUBLE — THIS IS NOT A KUBERNETES API SERVER.
//
// A small in-process HTTP server for tests that speaks enough of the Kubernetes REST list/watch
// protocol for the real @kubernetes/client-node 2.0.1 client to run against it: informers
// (makeInformer / ListWatch), CoreV1Api, DiscoveryV1Api, CustomObjectsApi, CoordinationV1Api,
// AuthenticationV1Api (TokenReview) and AdmissionregistrationV1Api, for the kinds Weft uses.
// No Kubernetes API server can run on the machines these tests run on.
//
// What it does like the real server: one global resourceVersion counter, per-kind watch
// history replayed from a resourceVersion, 410 Gone (HTTP status or ERROR event) for expired
// ones, selector-aware watch events, `/status` subresources, optimistic concurrency (409),
// AlreadyExists, no-op writes that keep the resourceVersion, Status error bodies, list items of
// built-in kinds without apiVersion/kind.
// What it does not: authentication/authorization of callers, admission, validation against
// schemas, defaulting, finalizers and graceful deletion, namespace existence checks or cascading
// deletes, server-side apply, paging (`limit` is ignored: every list is complete), strategic
// merge by list keys (treated as a JSON merge patch), protobuf/CBOR, TLS.
// It sends a BOOKMARK event every `bookmarkIntervalMs` on every watch, even when the client did
// not ask for bookmarks (client-node 2.0.1 never does, and takes the resourceVersion from them).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { reasonFor, statusBody } from './kube-api/errors.ts';
import { handle, isWatch, sendJson, type DoubleState, type ExpiryMode, type StatusWrite } from './kube-api/handlers.ts';
import { DEFAULT_RESOURCES, parseResourcePath, ResourceTable, type ResourceDef } from './kube-api/resources.ts';
import { Store, type KubeObject } from './kube-api/store.ts';
import type { RegisteredToken } from './kube-api/token-review.ts';

export type { KubeObject } from './kube-api/store.ts';
export type { ResourceDef } from './kube-api/resources.ts';
export type { StatusWrite } from './kube-api/handlers.ts';
export type { RegisteredToken } from './kube-api/token-review.ts';
export { API_SERVER_AUDIENCE } from './kube-api/token-review.ts';

export interface KubeApiDoubleOptions {
  /** How often every open watch gets a BOOKMARK (default 5000 ms; client-node gives up after 30 s of silence). */
  readonly bookmarkIntervalMs?: number;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string; // pathname, without the query
  readonly query: string; // without the leading '?'
  readonly watch: boolean;
  readonly contentType: string | undefined;
}

export interface FailMatch {
  readonly method?: string;
  /** Tested against the pathname only (e.g. /^\/api\/v1\/services$/). */
  readonly path?: RegExp;
  readonly watch?: boolean;
}

interface FailRule {
  readonly match: FailMatch;
  readonly status: number;
  remaining: number;
}

/** The bearer token kubeConfig() presents; the double accepts any caller. */
export const DOUBLE_CLIENT_TOKEN = 'kube-api-double-client-token';

export class KubeApiDouble {
  readonly requests: RecordedRequest[] = [];
  private readonly server: Server;
  private readonly state: DoubleState;
  private readonly failRules: FailRule[] = [];
  private port = 0;

  private constructor(options: KubeApiDoubleOptions) {
    this.state = {
      store: new Store(),
      resources: new ResourceTable(DEFAULT_RESOURCES),
      tokens: new Map(),
      watches: new Set(),
      statusWrites: [],
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 5000,
      expiryMode: 'http-410',
    };
    this.server = createServer((request, response) => this.onRequest(request, response));
  }

  static async start(options: KubeApiDoubleOptions = {}): Promise<KubeApiDouble> {
    const double = new KubeApiDouble(options);
    await double.listen();
    return double;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Writes through `/status` subresources, oldest first. */
  get statusWrites(): readonly StatusWrite[] {
    return this.state.statusWrites;
  }

  /** Watches currently streaming (a test can wait for an informer to re-watch). */
  get openWatches(): number {
    return this.state.watches.size;
  }

  /** The current global resourceVersion. */
  get resourceVersion(): string {
    return String(this.state.store.resourceVersion);
  }

  /** A client-node KubeConfig for this double: plain HTTP (client-node wants skipTLSVerify for that) and a dummy token. */
  kubeConfig(): KubeConfig {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'kube-api-double', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'kube-api-double-user', token: DOUBLE_CLIENT_TOKEN }],
      contexts: [{ name: 'kube-api-double', cluster: 'kube-api-double', user: 'kube-api-double-user' }],
      currentContext: 'kube-api-double',
    });
    return config;
  }

  /** Serve another kind (the defaults are the ones Weft uses). */
  addResource(resource: ResourceDef): void {
    this.state.resources.add(resource);
  }

  /**
   * Creates or replaces `object`, as an operator's `kubectl apply` would, and returns the stored
   * copy. Namespaced kinds default to namespace "default". `.status` is taken when the object has
   * a `status` key and otherwise kept, so re-applying a custom resource leaves the status the
   * control plane wrote. Generation goes up when anything but metadata and status changes.
   */
  apply(object: KubeObject): KubeObject {
    const resource = this.state.resources.byKind(object.apiVersion, object.kind);
    const incoming = structuredClone(object);
    incoming.metadata = { ...incoming.metadata };
    if (resource.namespaced) incoming.metadata.namespace = incoming.metadata.namespace ?? 'default';
    else delete incoming.metadata.namespace;
    delete incoming.metadata.resourceVersion;
    const exists = this.state.store.find(resource, incoming.metadata.namespace, incoming.metadata.name) !== undefined;
    const options = { statusRule: 'keep-if-absent' } as const;
    return exists ? this.state.store.update(resource, incoming, options) : this.state.store.create(resource, incoming, options);
  }

  /** Sets only `.status`, as a controller's write through the `/status` subresource would (not recorded in statusWrites). */
  applyStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, status: unknown): KubeObject {
    const resource = this.state.resources.byKind(apiVersion, kind);
    const stored = this.state.store.find(resource, resource.namespaced ? (namespace ?? 'default') : undefined, name);
    if (stored === undefined) throw new Error(`kube-api-double: no ${kind} ${namespace ?? ''}/${name}`);
    return this.state.store.update(resource, { ...stored, status, metadata: { ...stored.metadata, resourceVersion: undefined } }, { statusRule: 'status-only' });
  }

  /** Deletes the object (DELETED to watches); throws when there is none. */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    const resource = this.state.resources.byKind(apiVersion, kind);
    this.state.store.remove(resource, resource.namespaced ? (namespace ?? 'default') : undefined, name);
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const resource = this.state.resources.byKind(apiVersion, kind);
    return this.state.store.find(resource, resource.namespaced ? (namespace ?? 'default') : undefined, name);
  }

  /** Every object of the kind, or those in `namespace`, sorted by namespace and name. */
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    return this.state.store.all(this.state.resources.byKind(apiVersion, kind), namespace);
  }

  /** Answers the next `times` requests matching `match` with `status` and a Status body. */
  failNext(match: FailMatch, status: number, times = 1): void {
    this.failRules.push({ match, status, remaining: times });
  }

  /**
   * Ends every open watch cleanly, as the server does when a watch times out or the server
   * shuts down gracefully; client-node re-watches from its last resourceVersion.
   */
  dropWatches(): void {
    for (const watch of [...this.state.watches]) watch.end();
  }

  /**
   * Cuts every open watch's connection mid-stream. client-node 2.0.1 reports that as an
   * `error` and its informer stops (it does not re-watch on its own).
   */
  resetWatches(): void {
    for (const watch of [...this.state.watches]) watch.reset();
  }

  /**
   * Compacts the history: every resourceVersion handed out so far becomes too old to watch from.
   * 'http-410': open watches end, and their re-watch (any watch from an older resourceVersion)
   * gets HTTP 410 Gone. 'error-event': open watches get an ERROR event with a 410 Status and end,
   * and a later watch from an older resourceVersion gets the same as a 200 stream. Either way
   * client-node relists.
   */
  expireWatches(mode: ExpiryMode): void {
    this.state.store.compact();
    this.state.expiryMode = mode;
    for (const watch of [...this.state.watches]) {
      if (mode === 'error-event') watch.expire();
      else watch.end();
    }
  }

  /** Registers a service-account token for TokenReview. */
  registerToken(token: string, review: RegisteredToken): void {
    this.state.tokens.set(token, review);
  }

  /** Stops listening and cuts every connection (connections are then refused); the data stays. */
  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
    this.server.closeAllConnections();
    await closed;
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    if (this.server.listening) return;
    await this.listen();
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://kube-api-double');
    let watch: boolean;
    try {
      watch = isWatch(url, parseResourcePath(url.pathname));
    } catch {
      watch = isWatch(url, undefined);
    }
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      watch,
      contentType: request.headers['content-type'],
    };
    this.requests.push(recorded);
    const failure = this.takeFailure(recorded);
    if (failure !== undefined) {
      request.resume();
      sendJson(response, failure, statusBody(failure, reasonFor(failure), `kube-api-double: injected failure ${failure}`));
      return;
    }
    void handle(request, response, url, this.state);
  }

  private takeFailure(request: RecordedRequest): number | undefined {
    const rule = this.failRules.find((r) => r.remaining > 0 && matches(r.match, request));
    if (rule === undefined) return undefined;
    rule.remaining--;
    return rule.status;
  }
}

function matches(match: FailMatch, request: RecordedRequest): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== request.method) return false;
  if (match.path !== undefined && !match.path.test(request.path)) return false;
  return match.watch === undefined || match.watch === request.watch;
}

