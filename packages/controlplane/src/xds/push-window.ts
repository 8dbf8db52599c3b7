// Flow control for pushes: at most `limitBytes` of responses written to proxies and not yet
// taken by their transports. A push that does not fit waits; waiting is per proxy, not per
// message, and a proxy that resumes pushes its newest snapshot — so what waits is bounded by
// the number of proxies, never by the number of changes, and a change storm coalesces.
export const DEFAULT_PUSH_WINDOW_BYTES = 64 * 1024 * 1024;

export class PushWindow {
  private readonly limitBytes: number;
  private inFlightBytes = 0;
  /** In arrival order; a pusher is in it at most once. */
  private waiting: (() => void)[] = [];

  constructor(limitBytes = DEFAULT_PUSH_WINDOW_BYTES) {
    this.limitBytes = limitBytes;
  }

  get inFlight(): number {
    return this.inFlightBytes;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Takes `bytes` if they fit (always, when nothing is in flight: one large push must go). */
  tryReserve(bytes: number): boolean {
    if (this.inFlightBytes > 0 && this.inFlightBytes + bytes > this.limitBytes) return false;
    this.inFlightBytes += bytes;
    return true;
  }

  /**
   * Gives back `bytes`, and resumes waiting pushers in arrival order while there is room. One
   * that still does not fit goes back to the front, and the rest keep waiting: resuming them
   * too would only make each find the window full.
   */
  release(bytes: number): void {
    this.inFlightBytes -= bytes;
    while (this.waiting.length > 0 && this.inFlightBytes < this.limitBytes) {
      const resume = this.waiting.shift() as () => void;
      resume();
      if (this.waiting.at(-1) === resume) {
        this.waiting.pop();
        this.waiting.unshift(resume);
        break;
      }
    }
  }

  /** Calls `resume` once room frees; a pusher already waiting keeps its place. */
  wait(resume: () => void): void {
    if (!this.waiting.includes(resume)) this.waiting.push(resume);
  }

  /** Forgets a pusher that went away. */
  cancel(resume: () => void): void {
    this.waiting = this.waiting.filter((waiting) => waiting !== resume);
  }
}
