// Coalesces bursts of changes: runs `action` once things have been quiet for `quietMs`, but
// never later than `maxDelayMs` after the first change of a burst, so a steady trickle of
// changes cannot postpone a push forever.
export class Debouncer {
  private readonly quietMs: number;
  private readonly maxDelayMs: number;
  private readonly action: () => void;
  private timer: NodeJS.Timeout | undefined;
  private burstStartedAt: number | undefined;

  constructor(options: { quietMs: number; maxDelayMs: number }, action: () => void) {
    this.quietMs = options.quietMs;
    this.maxDelayMs = options.maxDelayMs;
    this.action = action;
  }

  trigger(): void {
    const now = Date.now();
    this.burstStartedAt ??= now;
    clearTimeout(this.timer);
    const delay = Math.max(0, Math.min(this.quietMs, this.burstStartedAt + this.maxDelayMs - now));
    this.timer = setTimeout(() => this.fire(), delay);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.burstStartedAt = undefined;
  }

  private fire(): void {
    this.cancel();
    this.action();
  }
}
