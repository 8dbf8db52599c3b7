// Issuance rate limit per identity: a token bucket per key. A workload that renews normally
// never notices it; a loop asking for certificates cannot make the CA sign without bound.
export class RateLimiter {
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;

  constructor(options: { burst: number; perSecond: number; now?: () => number }) {
    this.burst = options.burst;
    this.perSecond = options.perSecond;
    this.now = options.now ?? Date.now;
  }

  /** Takes one token for `key`; false when the bucket is empty. */
  take(key: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    if (this.buckets.size > 10_000) this.forgetFull(now);
    return true;
  }

  /** Buckets that have refilled completely carry no state worth keeping. */
  private forgetFull(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond >= this.burst) this.buckets.delete(key);
    }
  }
}
