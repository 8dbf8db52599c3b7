// Capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff
// And Jitter"): attempt n waits a uniform random time in [0, min(cap, base * 2^n)], so many
// proxies that lost the same control plane do not reconnect in lockstep.
export class Backoff {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: { baseMs: number; maxMs: number; random?: () => number }) {
    this.baseMs = options.baseMs;
    this.maxMs = options.maxMs;
    this.random = options.random ?? Math.random;
  }

  nextDelayMs(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(this.random() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }
}
