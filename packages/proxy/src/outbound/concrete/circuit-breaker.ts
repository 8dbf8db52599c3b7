// Admission to one cluster (Envoy's circuit breakers, Istio's connectionPool): at most
// `maxConnections` requests on connections at once (HTTP/1.1 carries one per connection), at
// most `maxPendingRequests` waiting for one, at most `maxRequests` outstanding in all. Beyond
// that a request is refused at once with 503 UO — never queued without bound.
import type { ConnectionLimits } from '../../config/resources/cluster.ts';
import { ProxyError, ProxyErrorKind } from '../../errors.ts';

export type Release = () => void;

export class CircuitBreaker {
  private readonly limits: ConnectionLimits;
  private active = 0;
  private readonly waiting: { resolve: (release: Release) => void; reject: (error: Error) => void; signal: AbortSignal; onAbort: () => void }[] = [];
  overflows = 0;

  constructor(limits: ConnectionLimits) {
    this.limits = limits;
  }

  /** Requests on connections, and waiting. */
  get load(): { active: number; pending: number } {
    return { active: this.active, pending: this.waiting.length };
  }

  /** Resolves with a release function once the request may go; throws UO when it may not. */
  admit(cluster: string, signal: AbortSignal): Promise<Release> {
    const { maxConnections, maxPendingRequests, maxRequests } = this.limits;
    if (maxRequests !== undefined && this.active + this.waiting.length >= maxRequests) return this.overflow(cluster, `${maxRequests} requests outstanding`);
    if (maxConnections === undefined || this.active < maxConnections) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (maxPendingRequests !== undefined && this.waiting.length >= maxPendingRequests) return this.overflow(cluster, `${maxConnections} connections busy and ${maxPendingRequests} requests waiting`);
    return new Promise<Release>((resolve, reject) => {
      const entry = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.waiting.indexOf(entry);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        },
      };
      signal.addEventListener('abort', entry.onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private overflow(cluster: string, why: string): Promise<never> {
    this.overflows++;
    return Promise.reject(new ProxyError(ProxyErrorKind.UPSTREAM_OVERFLOW, `${cluster} is at its limit: ${why}`));
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) {
        next.signal.removeEventListener('abort', next.onAbort);
        next.resolve(this.releaser());
      } else {
        this.active--;
      }
    };
  }
}
