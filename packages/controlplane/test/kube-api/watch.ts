// TEST DOUBLE support (not a Kubernetes API server): one open watch, a chunked HTTP response of
// newline-delimited JSON events `{type, object}`, as the API server streams them.
import type { ServerResponse } from 'node:http';
import { statusBody } from './errors.ts';
import { apiVersionOf, type ResourceDef } from './resources.ts';
import type { Selector } from './selectors.ts';
import type { Change, KubeObject, Store } from './store.ts';

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: unknown;
}

export interface WatchScope {
  readonly resource: ResourceDef;
  readonly namespace: string | undefined;
  readonly selector: Selector;
}

/**
 * The event a watch with `scope` sees for `change`, if any. Like the API server, an object that
 * starts matching a selector arrives as ADDED and one that stops matching as DELETED.
 */
export function eventFor(change: Change, scope: WatchScope): WatchEvent | undefined {
  if (scope.namespace !== undefined && change.object.metadata.namespace !== scope.namespace) return undefined;
  const before = change.previous !== undefined && scope.selector(change.previous);
  if (change.type === 'DELETED') return before ? { type: 'DELETED', object: change.object } : undefined;
  const now = scope.selector(change.object);
  if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: change.object };
  return before ? { type: 'DELETED', object: change.object } : undefined;
}

/** A watch that starts too far back, in 'error-event' mode: a 200 stream with one ERROR event. */
export function sendExpiredStream(response: ServerResponse): void {
  response.writeHead(200, { 'Content-Type': 'application/json' });
  const event: WatchEvent = { type: 'ERROR', object: statusBody(410, 'Expired', 'The resourceVersion for the provided watch is too old.') };
  response.end(`${JSON.stringify(event)}\n`);
}

export class OpenWatch {
  private readonly response: ServerResponse;
  private readonly scope: WatchScope;
  private readonly store: Store;
  private readonly timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;

  constructor(response: ServerResponse, scope: WatchScope, store: Store) {
    this.response = response;
    this.scope = scope;
    this.store = store;
  }

  /**
   * Replays what happened after `since` (or, without one, synthetic ADDED events for the current
   * state, as for resourceVersion "" or "0"), then streams live changes.
   */
  start(since: number | undefined, bookmarkIntervalMs: number, timeoutSeconds: number | undefined, onClose: () => void): void {
    this.response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    // Headers now, not with the first event: client-node's connect timer runs until they arrive.
    this.response.flushHeaders();
    this.response.on('close', () => {
      this.cleanup();
      onClose();
    });
    if (since === undefined) this.sendInitialState();
    else for (const change of this.store.changesSince(this.scope.resource, since)) this.sendChange(change);
    this.unsubscribe = this.store.subscribe((change) => {
      if (change.resource === this.scope.resource) this.sendChange(change);
    });
    // Something at least every interval keeps client-node's 30 s inactivity timer from firing.
    this.timers.push(setInterval(() => this.sendBookmark(), bookmarkIntervalMs));
    if (timeoutSeconds !== undefined) this.timers.push(setTimeout(() => this.end(), timeoutSeconds * 1000));
  }

  /** Ends the stream cleanly (terminating chunk), as the server does when a watch times out. */
  end(): void {
    this.cleanup();
    this.response.end();
  }

  /** Cuts the connection mid-stream, as a crashed server or a broken network does. */
  reset(): void {
    this.cleanup();
    this.response.socket?.destroy();
  }

  /** Sends an ERROR event with a 410 Expired Status, then ends the stream. */
  expire(): void {
    this.send({ type: 'ERROR', object: statusBody(410, 'Expired', 'The resourceVersion for the provided watch is too old.') });
    this.end();
  }

  private sendInitialState(): void {
    for (const object of this.store.all(this.scope.resource, this.scope.namespace)) {
      if (this.scope.selector(object)) this.send({ type: 'ADDED', object });
    }
  }

  private sendChange(change: Change): void {
    const event = eventFor(change, this.scope);
    if (event !== undefined) this.send(event);
  }

  /** Every change up to the current revision has been sent already, so the bookmark may claim it. */
  private sendBookmark(): void {
    const object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'> = {
      apiVersion: apiVersionOf(this.scope.resource),
      kind: this.scope.resource.kind,
      metadata: { resourceVersion: String(this.store.resourceVersion) } as KubeObject['metadata'],
    };
    this.send({ type: 'BOOKMARK', object });
  }

  private send(event: WatchEvent): void {
    if (!this.response.writableEnded && !this.response.destroyed) this.response.write(`${JSON.stringify(event)}\n`);
  }

  private cleanup(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.length = 0;
  }
}
