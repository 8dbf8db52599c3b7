// bench/tracing: what span export costs requests, above all when the collector is down. One app
// (nginx, fixed 200) behind four Weft sidecar pairs that differ only in tracing:
//   off        no collector (trace headers are still propagated; nothing is recorded)
//   collector  a collector that answers 200 (an OTLP/HTTP receiver in this process)
//   refused    the endpoint is a closed port: every export fails at connect
//   blackhole  the endpoint accepts connections and never answers: exports hang to their timeout
// Every request is sampled (--tracing-sampling 100), so each pair records two spans a request.
// Open-loop load at a fixed rate, paths interleaved per repetition, medians side by side: p50,
// p99, the two sidecars' CPU time per request, requests answered 2xx, and what the sidecars
// counted (exported, dropped, failed exports).
// Loopback only, bounded in time. Usage: npm run bench:tracing -- --help
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import type { ManagedProcess } from '@weft/cli';
import { formatHostPort } from '@weft/runtime';
import { runOpenLoop } from '../pair/latency.ts';
import { appServer, Nginx, nginxBuild } from '../pair/nginx.ts';
import type { OpenLoopResult } from '../pair/open-loop.ts';
import { SERVER_CPU, type Pinning } from '../pair/pinning.ts';
import { freePort } from '../pair/ports.ts';
import { inBenchEnvironment } from '../pair/bench-environment.ts';
import type { Processes } from '../pair/processes.ts';
import { cpuSeconds } from '../pair/proc-stats.ts';
import { median } from '../pair/stats.ts';
import { APP_HOST, startWeftPair } from '../pair/weft-pair.ts';

const USAGE = `usage: npm run bench:tracing -- [options]

  --reps N         interleaved repetitions (default 3; medians are reported)
  --rate R         requests/s of the open-loop run (default 500)
  --duration S     measured seconds per run (default 4)
  --warmup S       unrecorded seconds before each run (default 1)`;

interface Options {
  readonly reps: number;
  readonly rate: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: expected a positive number, got "${text}"\n${USAGE}`);
  return value;
}

function parseOptions(): Options | undefined {
  const { values } = parseArgs({ options: { reps: { type: 'string' }, rate: { type: 'string' }, duration: { type: 'string' }, warmup: { type: 'string' }, help: { type: 'boolean', default: false } } });
  if (values.help) return undefined;
  return { reps: Math.round(positive('reps', values.reps, 3)), rate: positive('rate', values.rate, 500), durationSeconds: positive('duration', values.duration, 4), warmupSeconds: positive('warmup', values.warmup, 1) };
}

const COUNTERS = ['weft_tracing_spans_exported_total', 'weft_tracing_spans_dropped_total', 'weft_tracing_export_failures_total'] as const;
type Counts = Record<(typeof COUNTERS)[number], number>;

/** The tracing counters of both sidecars of a pair, summed. */
async function counts(sidecars: readonly ManagedProcess[]): Promise<Counts> {
  const total: Counts = { weft_tracing_spans_exported_total: 0, weft_tracing_spans_dropped_total: 0, weft_tracing_export_failures_total: 0 };
  for (const sidecar of sidecars) {
    const text = await (await fetch(`http://${formatHostPort(await sidecar.listening('stats'))}/stats/prometheus`)).text();
    for (const name of COUNTERS) total[name] += Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  }
  return total;
}

interface Sample {
  readonly path: string;
  readonly result: OpenLoopResult;
  /** CPU time of both sidecars per request sent, in µs: less at the mercy of other load than latency. */
  readonly cpuUsPerRequest: number;
  /** Counter increase over the run. */
  readonly counted: Counts;
}

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** The endpoint of each path's collector (none for off); they stop with everything else. */
async function collectors(processes: Processes): Promise<Record<string, string | undefined>> {
  const answering = createHttpServer((incoming, response) => {
    incoming.resume();
    incoming.once('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  answering.listen(0, '127.0.0.1');
  await once(answering, 'listening');
  const held: Socket[] = [];
  const blackhole = createTcpServer((socket) => held.push(socket));
  blackhole.listen(0, '127.0.0.1');
  await once(blackhole, 'listening');
  processes.onStop('collectors', () => {
    answering.closeAllConnections();
    answering.close();
    for (const socket of held) socket.destroy();
    blackhole.close();
    return Promise.resolve();
  });
  const url = (port: number): string => `http://127.0.0.1:${port}/v1/traces`;
  return {
    off: undefined,
    collector: url((answering.address() as AddressInfo).port),
    refused: url(await freePort()),
    blackhole: url((blackhole.address() as AddressInfo).port),
  };
}

function formatTable(paths: readonly string[], samples: readonly Sample[], options: Options): string {
  const rows = paths.map((path) => {
    const mine = samples.filter((sample) => sample.path === path);
    const pick = (value: (sample: Sample) => number): number => median(mine.map(value));
    const sum = (value: (sample: Sample) => number): number => mine.reduce((total, sample) => total + value(sample), 0);
    return [
      path,
      pick((sample) => sample.result.latencyUs.p50).toFixed(0),
      pick((sample) => sample.result.latencyUs.p99).toFixed(0),
      pick((sample) => sample.result.latencyUs.p999).toFixed(0),
      pick((sample) => sample.cpuUsPerRequest).toFixed(0),
      `${sum((sample) => sample.result.ok)}/${sum((sample) => sample.result.measured)}`,
      String(sum((sample) => sample.counted.weft_tracing_spans_exported_total)),
      String(sum((sample) => sample.counted.weft_tracing_spans_dropped_total)),
      String(sum((sample) => sample.counted.weft_tracing_export_failures_total)),
    ];
  });
  const header = ['tracing', 'p50 µs', 'p99 µs', 'p99.9 µs', 'sidecar CPU µs/req', '2xx/sent', 'spans exported', 'spans dropped', 'failed exports'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ');
  return [
    `Weft sidecar pair, ${options.rate} req/s open loop for ${options.durationSeconds} s (after ${options.warmupSeconds} s warm-up), ${options.reps} interleaved repetitions; latency medians over repetitions, counts summed (both sidecars, measured window and warm-up)`,
    line(header),
    ...rows.map(line),
  ].join('\n');
}

async function run(options: Options, processes: Processes, pinning: Pinning, root: string): Promise<void> {
  const endpoints = await collectors(processes);
  progress('starting the app (nginx)');
  const appPort = await freePort();
  await Nginx.start({ name: 'app', root, port: appPort, server: appServer(appPort), probeHost: APP_HOST, cpu: SERVER_CPU, build: nginxBuild(), processes, pinning });
  const pairs = [];
  for (const [path, endpoint] of Object.entries(endpoints)) {
    progress(`starting the ${path} pair`);
    const tracing = ['--tracing-sampling', '100', ...(endpoint ? ['--tracing-otlp-endpoint', endpoint] : [])];
    pairs.push({ path, pair: await startWeftPair({ root, appPort, processes, pinning, name: path, proxyArgs: tracing }) });
  }
  const samples: Sample[] = [];
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const { path, pair } of pairs) {
      progress(`rep ${rep}/${options.reps}: ${path}`);
      const sidecars = [pair.client, pair.server];
      const cpu = (): number => sidecars.reduce((sum, sidecar) => sum + (sidecar.child.pid === undefined ? Number.NaN : cpuSeconds(sidecar.child.pid)), 0);
      const before = await counts(sidecars);
      const cpuBefore = cpu();
      const result = await runOpenLoop({ port: pair.port, hostHeader: APP_HOST, rate: options.rate, durationSeconds: options.durationSeconds, warmupSeconds: options.warmupSeconds, maxConnections: 256, processes, pinning });
      const cpuUsPerRequest = ((cpu() - cpuBefore) * 1e6) / result.sentTotal;
      const after = await counts(sidecars);
      const counted = Object.fromEntries(COUNTERS.map((name) => [name, after[name] - before[name]])) as Counts;
      samples.push({ path, result, cpuUsPerRequest, counted });
    }
  }
  process.stdout.write(`${formatTable(Object.keys(endpoints), samples, options)}\n`);
}

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions();
  } catch (error) {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const chosen = options;
  return inBenchEnvironment('bench-tracing', async ({ processes, pinning, root }) => {
    await run(chosen, processes, pinning, root);
    return 0;
  });
}

process.exitCode = await main();
