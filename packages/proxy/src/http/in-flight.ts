// What is in flight on one side of the proxy (exchanges and tunnels), and when it has last been
// quiet: how a draining sidecar tells that its application has stopped calling out.
import type { RequestContext } from './handler.ts';
import type { TcpStreamObserver } from '../metrics/tcp-stream-observer.ts';

export class InFlight {
  private count = 0;
  private readonly watchers = new Set<() => void>();

  get active(): number {
    return this.count;
  }

  /** Counts one exchange or tunnel; the returned function ends it (once). */
  begin(): () => void {
    this.count++;
    this.notify();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.count--;
      this.notify();
    };
  }

  /** Resolves once nothing has been in flight for `quietMs`, counted from now at the earliest. */
  quiet(quietMs: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const watch = (): void => {
        clearTimeout(timer);
        if (this.count > 0) return;
        timer = setTimeout(() => {
          this.watchers.delete(watch);
          resolve();
        }, quietMs);
      };
      this.watchers.add(watch);
      watch();
    });
  }

  private notify(): void {
    for (const watch of this.watchers) watch();
  }
}

/** `observer`, also counting each TCP stream in `inFlight` while it is open. */
export function countingStreams(inFlight: InFlight, observer: TcpStreamObserver): TcpStreamObserver {
  const ends = new WeakMap<RequestContext, () => void>();
  return {
    tcpOpen(context) {
      ends.set(context, inFlight.begin());
      observer.tcpOpen(context);
    },
    tcpClose(context, bytes) {
      ends.get(context)?.();
      observer.tcpClose(context, bytes);
    },
  };
}
