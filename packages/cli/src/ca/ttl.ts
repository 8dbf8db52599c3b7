// --ttl values (30s, 10m, 1h, 7d), and durations for people to read.
import { parseDuration } from '@weft/runtime';
import { UsageError } from './subcommand.ts';

export function parseTtl(value: string): number {
  try {
    return parseDuration(value, '--ttl');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** "9d 23h", "5h 12m", "3m 20s", "42s": the two largest units, for "expires in ...". */
export function formatDuration(milliseconds: number): string {
  let seconds = Math.floor(Math.abs(milliseconds) / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const count = Math.floor(seconds / size);
    seconds -= count * size;
    if (count > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${count}${unit}`);
    if (parts.length === 2) break;
  }
  return parts.length > 0 ? parts.join(' ') : '0s';
}
