// What the numbers were measured on, and whether the machine was quiet when the run began.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CLIENT_CPU, SERVER_CPU, type Pinning } from './pinning.ts';
import type { Processes } from './processes.ts';
import type { StallCensus } from './stall-probe.ts';

const STALL_PROBE = fileURLToPath(new URL('./stall-probe.ts', import.meta.url));

export interface Machine {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly kernel: string;
  readonly node: string;
  readonly nginx: string;
  readonly wrk: string;
  /** `git describe --always --dirty` of the repository, or "unknown". */
  readonly commit: string;
}

function quiet(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    // wrk -v exits 1 after printing its version.
    return String((error as { stdout?: string }).stdout ?? '').trim();
  }
}

export function describeMachine(nginxVersion: string): Machine {
  return {
    // All CPUs of the machine, not just those this (pinned) process may use.
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    kernel: release(),
    node: process.version,
    nginx: nginxVersion,
    wrk: /^wrk (\S+)/.exec(quiet('wrk', ['-v']))?.[1] ?? 'unknown',
    commit: quiet('git', ['-C', import.meta.dirname, 'describe', '--always', '--dirty']) || 'unknown',
  };
}

/** Busy share of each CPU (0..1) over `ms`, from /proc/stat: other load skews every figure. */
export async function cpuBusy(ms = 1000): Promise<number[]> {
  const sample = (): number[][] =>
    readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .filter((line) => /^cpu\d+ /.test(line))
      .map((line) => line.split(/\s+/).slice(1).map(Number));
  const before = sample();
  await sleep(ms);
  const after = sample();
  return after.map((fields, cpu) => {
    const delta = fields.map((value, i) => value - (before[cpu]?.[i] ?? 0));
    const total = delta.reduce((sum, value) => sum + value, 0);
    // idle and iowait are fields 4 and 5.
    const idle = (delta[3] ?? 0) + (delta[4] ?? 0);
    return total > 0 ? 1 - idle / total : 0;
  });
}

/** Runs the stall probe on both benchmark CPUs at once (one unpinned run without taskset). */
export async function stallCensus(processes: Processes, pinning: Pinning, seconds: number): Promise<Record<string, StallCensus>> {
  const cpus = pinning.enabled ? [SERVER_CPU, CLIENT_CPU] : [undefined];
  const results = await Promise.all(
    cpus.map(async (cpu) => {
      const [command, args] = cpu === undefined ? [process.execPath, [STALL_PROBE, String(seconds)]] : pinning.command(cpu, process.execPath, [STALL_PROBE, String(seconds)]);
      const result = await processes.run(command, args, (seconds + 30) * 1000);
      if (result.code !== 0) throw new Error(`stall probe failed: ${result.stderr}`);
      return [cpu === undefined ? 'unpinned' : `cpu${cpu}`, JSON.parse(result.stdout) as StallCensus] as const;
    }),
  );
  return Object.fromEntries(results);
}
