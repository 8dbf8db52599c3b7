// Durations in flags and settings: a whole number and a unit — "30s", "10m", "24h", "7d".
const DURATION = /^([1-9][0-9]*)(s|m|h|d)$/;
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** The duration in seconds; throws an error naming `what` for anything else. */
export function parseDuration(value: string, what: string): number {
  const match = DURATION.exec(value);
  const seconds = match ? Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? 0) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new Error(`${what} must be a duration like 30s, 10m, 1h or 7d, got "${value}"`);
  return seconds;
}
