// Medians over the repetitions, the plain-text tables, and the JSON record of the whole run.
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Machine } from './machine.ts';
import type { Memory, PathSample } from './measure.ts';
import type { BenchOptions } from './options.ts';
import type { StallCensus } from './stall-probe.ts';
import { median } from './stats.ts';
import type { PathFigures } from '../latest.ts';

export interface ProxySummary {
  readonly path: string;
  readonly name: string;
  readonly idleRssMb: number;
  readonly loadedRssMb: number;
  readonly mcpuPer1000Rps: number;
}

export interface PathSummary {
  readonly path: string;
  readonly requestsPerSecond: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly p999Us: number;
  /** Failed requests, summed over all repetitions of both runs. */
  readonly errors: number;
  /** Most CPU (cores) the other paths' proxies used on the shared core during one of its runs. */
  readonly bystanderCoresMax: number;
  /** Per-repetition values, to show the spread the medians hide. */
  readonly perRep: { readonly requestsPerSecond: number[]; readonly p50Us: number[]; readonly p99Us: number[] };
}

export interface Summary {
  readonly paths: readonly PathSummary[];
  readonly proxies: readonly ProxySummary[];
  readonly sendLagUs: { readonly p50: number; readonly p99: number };
}

export interface RunRecord {
  readonly startedAt: string;
  readonly machine: Machine;
  readonly options: BenchOptions;
  readonly pinned: boolean;
  readonly cpuBusyBeforeRun: readonly number[];
  /** What a bare spin loop saw before the run, per CPU: the floor under every percentile. */
  readonly stalls: Record<string, StallCensus>;
  readonly idleRss: Record<string, Record<string, Memory>>;
  readonly samples: readonly PathSample[];
  readonly summary: Summary;
  readonly warnings: readonly string[];
}

function errorCount(sample: PathSample): number {
  const latency = Object.values(sample.latency.errors).reduce((sum, n) => sum + n, 0);
  return latency + sample.throughput.errors;
}

export function summarise(pathNames: readonly string[], samples: readonly PathSample[], idleRss: RunRecord['idleRss']): Summary {
  const paths = pathNames.map((path): PathSummary => {
    const mine = samples.filter((sample) => sample.path === path);
    const perRep = {
      requestsPerSecond: mine.map((sample) => sample.throughput.requestsPerSecond),
      p50Us: mine.map((sample) => sample.latency.latencyUs.p50),
      p99Us: mine.map((sample) => sample.latency.latencyUs.p99),
    };
    return {
      path,
      requestsPerSecond: median(perRep.requestsPerSecond),
      p50Us: median(perRep.p50Us),
      p99Us: median(perRep.p99Us),
      p999Us: median(mine.map((sample) => sample.latency.latencyUs.p999)),
      errors: mine.reduce((sum, sample) => sum + errorCount(sample), 0),
      bystanderCoresMax: Math.max(...mine.flatMap((sample) => [sample.bystanderCores.latency, sample.bystanderCores.throughput])),
      perRep,
    };
  });
  const proxies = pathNames.flatMap((path) => {
    const mine = samples.filter((sample) => sample.path === path);
    const names = mine[0]?.proxies.map((proxy) => proxy.name) ?? [];
    return names.map(
      (name, i): ProxySummary => ({
        path,
        name,
        idleRssMb: idleRss[path]?.[name]?.totalMb ?? Number.NaN,
        loadedRssMb: median(mine.map((sample) => sample.proxies[i]?.rssAfterLatency.totalMb ?? Number.NaN)),
        mcpuPer1000Rps: median(mine.map((sample) => sample.proxies[i]?.mcpuPer1000Rps ?? Number.NaN)),
      }),
    );
  });
  const sendLagUs = { p50: median(samples.map((sample) => sample.latency.sendLagUs.p50)), p99: median(samples.map((sample) => sample.latency.sendLagUs.p99)) };
  return { paths, proxies, sendLagUs };
}

function fixed(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-';
}

function signed(value: number): string {
  return Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${fixed(value)}` : '-';
}

function series(values: readonly number[]): string {
  return values.length > 0 ? values.map((value) => fixed(value)).join(' / ') : '-';
}

function noiseFloor(stalls: Record<string, StallCensus>): string {
  const seconds = Object.values(stalls)[0]?.seconds ?? Number.NaN;
  const perCpu = Object.entries(stalls).map(([cpu, census]) => `${cpu} ${census.over200us} stalls > 0.2 ms, ${census.over1ms} > 1 ms, longest ${fixed(census.maxMs, 1)} ms`);
  return `noise floor (bare spin loop, ${fixed(seconds)} s per CPU, before the run): ${perCpu.join('; ')}`;
}

/** A Markdown table (readable as plain text too): left-aligned first column, right-aligned numbers. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, 3, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? `:${'-'.repeat(width + 1)}` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export function formatReport(record: RunRecord): string {
  const { machine, options, summary } = record;
  const find = (name: string): PathSummary | undefined => summary.paths.find((path) => path.path === name);
  const direct = find('direct');
  const nginx = find('nginx pair');
  const reps = options.reps === 1 ? '1 repetition' : `${options.reps} interleaved repetitions`;
  const lines = [
    `weft bench/pair — ${record.startedAt}`,
    `machine: nproc ${machine.nproc} (${machine.cpuModel}), kernel ${machine.kernel}, node ${machine.node}, nginx ${machine.nginx}, wrk ${machine.wrk}, weft ${machine.commit}`,
    `pinning: ${record.pinned ? 'app + proxies under test on CPU 0, load generators on CPU 1' : 'NONE (taskset missing)'}`,
    `Weft sidecar: ${options.proxy === 'bundle' ? 'the shipped bundle (packages/proxy/dist/weft-proxy.mjs)' : 'the TypeScript sources (--proxy sources)'}`,
    'middle hop: mutual TLS for both pairs (Weft: SPIFFE certificates from its CA, HTTP/2; nginx: TLS 1.3, client certificate required, upstream keepalive and session reuse)',
    `throughput: wrk -t1 -c${options.connections} -d${options.durationSeconds}s (closed loop); latency: open loop at ${fixed(options.rate)} req/s for ${options.latencyDurationSeconds} s after ${options.warmupSeconds} s warm-up, measured from each request's scheduled time`,
    noiseFloor(record.stalls),
    `values are medians of ${reps} (order per rep: direct, weft pair, nginx pair); errors are summed over all runs`,
    '',
    table(
      ['path', 'req/s', 'x direct', 'x nginx', 'p50 µs', 'p99 µs', 'p99.9 µs', 'added p50', 'added p99', 'errors'],
      summary.paths.map((path) => [
        path.path,
        fixed(path.requestsPerSecond),
        direct ? fixed(path.requestsPerSecond / direct.requestsPerSecond, 3) : '-',
        nginx ? fixed(path.requestsPerSecond / nginx.requestsPerSecond, 2) : '-',
        fixed(path.p50Us),
        fixed(path.p99Us),
        fixed(path.p999Us),
        path === direct || !direct ? '' : signed(path.p50Us - direct.p50Us),
        path === direct || !direct ? '' : signed(path.p99Us - direct.p99Us),
        fixed(path.errors),
      ]),
    ),
    '',
    table(
      ['proxy process', 'RSS idle MB', 'RSS loaded MB', `mCPU per 1000 req/s`],
      summary.proxies.map((proxy) => [`${proxy.path}: ${proxy.name}`, fixed(proxy.idleRssMb, 1), fixed(proxy.loadedRssMb, 1), fixed(proxy.mcpuPer1000Rps)]),
    ),
    '',
    'RSS: VmRSS; nginx figures are master + worker. Loaded = right after the fixed-rate run. CPU: utime + stime over the fixed-rate run / requests sent.',
    `open-loop send lag (send time - scheduled time), median over runs: p50 ${fixed(summary.sendLagUs.p50, 1)} µs, p99 ${fixed(summary.sendLagUs.p99, 1)} µs`,
    `CPU the other paths' idle proxies used on the core under test, worst run: ${summary.paths.map((path) => `${path.path} ${fixed(path.bystanderCoresMax * 100, 1)}%`).join(', ')}`,
    'per rep:',
    ...summary.paths.map((path) => `  ${path.path.padEnd(10)}  req/s ${series(path.perRep.requestsPerSecond)};  p50 µs ${series(path.perRep.p50Us)};  p99 µs ${series(path.perRep.p99Us)}`),
  ];
  if (record.warnings.length > 0) lines.push('', ...record.warnings.map((warning) => `WARNING: ${warning}`));
  return `${lines.join('\n')}\n`;
}

/** bench/results/pair-<timestamp>.json (the directory is gitignored). */
export async function writeRecord(record: RunRecord): Promise<string> {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  await mkdir(dir, { recursive: true });
  const file = join(dir, `pair-${record.startedAt.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`);
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}

const LATEST_NAMES: Record<string, string> = { direct: 'direct', 'weft pair': 'weft', 'nginx pair': 'nginx' };

/** The summary in latest.json's shape: {direct, weft, nginx} -> PathFigures. */
export function latestFigures(summary: Summary): Record<string, PathFigures> {
  const round = (value: number, digits = 3): number => Number(value.toFixed(digits));
  return Object.fromEntries(
    summary.paths.map((path) => {
      const proxies = summary.proxies.filter((proxy) => proxy.path === path.path);
      const perProxy =
        proxies.length === 0
          ? {}
          : { cpuPer1kReqMs: round(Math.max(...proxies.map((proxy) => proxy.mcpuPer1000Rps))), rssMb: round(Math.max(...proxies.map((proxy) => proxy.loadedRssMb)), 1) };
      const figures: PathFigures = { rps: Math.round(path.requestsPerSecond), p50Ms: round(path.p50Us / 1000), p99Ms: round(path.p99Us / 1000), p999Ms: round(path.p999Us / 1000), ...perProxy };
      return [LATEST_NAMES[path.path] ?? path.path, figures];
    }),
  );
}
