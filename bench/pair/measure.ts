// One repetition on one path: the fixed-rate latency run (with the proxies' CPU time and
// memory around it), then the closed-loop throughput run.
import { performance } from 'node:perf_hooks';
import { runOpenLoop } from './latency.ts';
import type { OpenLoopResult } from './open-loop.ts';
import type { BenchOptions } from './options.ts';
import type { Pinning } from './pinning.ts';
import type { Processes } from './processes.ts';
import { cpuSeconds, peakRssMegabytes, rssMegabytes } from './proc-stats.ts';
import { runWrk, type WrkResult } from './wrk.ts';

/** One proxy of a pair; nginx proxies are a master and its worker, measured together. */
export interface ProxyProcess {
  readonly name: string;
  readonly pids: () => readonly number[];
}

/** A way to reach the app: directly, or through a pair of proxies. */
export interface Target {
  readonly name: string;
  readonly port: number;
  readonly hostHeader: string;
  readonly proxies: readonly ProxyProcess[];
  /** Why the path cannot be measured any more (a proxy exited), if it cannot. */
  readonly broken?: () => string | undefined;
}

export interface Memory {
  readonly totalMb: number;
  readonly byPidMb: Record<string, number>;
}

export interface ProxySample {
  readonly name: string;
  readonly rssAfterLatency: Memory;
  readonly rssAfterThroughput: Memory;
  /** VmHWM summed over the processes: the most each has ever held. */
  readonly peakRssMb: number;
  /** User + system CPU over the latency run. */
  readonly cpuSeconds: number;
  /** CPU per request in µs, which is also mCPU per 1000 req/s. */
  readonly mcpuPer1000Rps: number;
}

export interface PathSample {
  readonly rep: number;
  readonly path: string;
  readonly latency: OpenLoopResult;
  readonly latencyWallSeconds: number;
  readonly throughput: Omit<WrkResult, 'output'>;
  readonly proxies: readonly ProxySample[];
  /**
   * CPU (in cores) used meanwhile by the proxies of the other paths, which share the core under
   * test: idle Node processes still collect garbage after their own runs.
   */
  readonly bystanderCores: { readonly latency: number; readonly throughput: number };
}

export function memory(pids: readonly number[]): Memory {
  const byPidMb = Object.fromEntries(pids.map((pid) => [String(pid), rssMegabytes(pid)]));
  return { totalMb: Object.values(byPidMb).reduce((sum, mb) => sum + mb, 0), byPidMb };
}

function totalCpu(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
}

/** Runs `work`, and says how much CPU (in cores) `proxies` used meanwhile and how long it took. */
async function watching<T>(proxies: readonly ProxyProcess[], work: () => Promise<T>): Promise<{ result: T; cores: number; seconds: number }> {
  const pids = proxies.flatMap((proxy) => proxy.pids());
  const before = totalCpu(pids);
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  return { result, cores: (totalCpu(pids) - before) / seconds, seconds };
}

export async function measure(target: Target, bystanders: readonly ProxyProcess[], rep: number, options: BenchOptions, context: { processes: Processes; pinning: Pinning }): Promise<PathSample> {
  const cpuBefore = target.proxies.map((proxy) => totalCpu(proxy.pids()));
  const open = await watching(bystanders, () =>
    runOpenLoop({
      port: target.port,
      hostHeader: target.hostHeader,
      rate: options.rate,
      durationSeconds: options.latencyDurationSeconds,
      warmupSeconds: options.warmupSeconds,
      maxConnections: options.maxConnections,
      ...context,
    }),
  );
  const latency = open.result;
  const cpuAfter = target.proxies.map((proxy) => totalCpu(proxy.pids()));
  const rssAfterLatency = target.proxies.map((proxy) => memory(proxy.pids()));

  const closed = await watching(bystanders, () =>
    runWrk({
      port: target.port,
      hostHeader: target.hostHeader,
      connections: options.connections,
      durationSeconds: options.durationSeconds,
      ...context,
    }),
  );
  const { output: _output, ...throughput } = closed.result;

  const proxies = target.proxies.map((proxy, i): ProxySample => {
    const cpu = (cpuAfter[i] ?? Number.NaN) - (cpuBefore[i] ?? Number.NaN);
    return {
      name: proxy.name,
      rssAfterLatency: rssAfterLatency[i] as Memory,
      rssAfterThroughput: memory(proxy.pids()),
      peakRssMb: proxy.pids().reduce((sum, pid) => sum + peakRssMegabytes(pid), 0),
      cpuSeconds: cpu,
      // Every request of the run (warm-up included) went through the proxy in that window.
      mcpuPer1000Rps: latency.sentTotal > 0 ? (cpu * 1e6) / latency.sentTotal : Number.NaN,
    };
  });
  return { rep, path: target.name, latency, latencyWallSeconds: open.seconds, throughput, proxies, bystanderCores: { latency: open.cores, throughput: closed.cores } };
}
