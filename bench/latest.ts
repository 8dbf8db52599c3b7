// bench/results/latest.json: the last figures of every benchmark in one place, in the shape
// docs/performance.md describes. Each benchmark replaces its own section and leaves the others.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const LATEST_FILE = fileURLToPath(new URL('./results/latest.json', import.meta.url));

/** One path's figures; a field is absent where it does not apply (no proxies on the direct path). */
export interface PathFigures {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** CPU milliseconds per 1000 requests, per proxy (the busier of a pair). */
  readonly cpuPer1kReqMs?: number;
  /** RSS under load, per proxy (the larger of a pair). */
  readonly rssMb?: number;
}

export type LatestSection = 'pair' | 'grpc' | 'scale';

export async function updateLatest(section: LatestSection, figures: unknown, machine: unknown): Promise<string> {
  let latest: Record<string, unknown> = {};
  try {
    latest = JSON.parse(await readFile(LATEST_FILE, 'utf8')) as Record<string, unknown>;
  } catch {
    // First run, or a file from an older shape: start afresh.
  }
  latest.machine = machine;
  latest[section] = { ...(figures as object), measuredAt: new Date().toISOString() };
  await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  await writeFile(LATEST_FILE, `${JSON.stringify(latest, null, 2)}\n`);
  return LATEST_FILE;
}
