// bench/grpc: unary gRPC calls to one app (the e2e tests' grpc-js echo server) directly and
// through a Weft pair (mTLS between the sidecars, HTTP/2 end to end), in interleaved
// repetitions: closed-loop throughput at fixed concurrency, and latency at a fixed open-loop
// rate measured from each call's due time. The app and the sidecars share CPU 0; the load runs
// here, on CPU 1. There is no nginx reference for gRPC yet. Usage: npm run bench:grpc -- [--reps N]
import { parseArgs } from 'node:util';
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { ManagedProcess } from '@weft/cli';
import { formatHostPort, type HostPort } from '@weft/runtime';
import { ECHO_SERVICE } from '../../e2e/loopback/grpc-echo-service.ts';
import { updateLatest, type PathFigures } from '../latest.ts';
import { describeMachine } from '../pair/machine.ts';
import { inBenchEnvironment } from '../pair/bench-environment.ts';
import { SERVER_CPU } from '../pair/pinning.ts';
import { cpuSeconds, rssMegabytes } from '../pair/proc-stats.ts';
import { table } from '../pair/report.ts';
import { median, percentile } from '../pair/stats.ts';
import { APP_HOST, startWeftPair, type WeftPair } from '../pair/weft-pair.ts';

const ECHO_SERVER = new URL('../../e2e/loopback/grpc-echo-server.ts', import.meta.url).pathname;
const ECHO = ECHO_SERVICE.Echo as NonNullable<(typeof ECHO_SERVICE)['Echo']>;
const REQUEST = { message: 'ping' };

interface Target {
  readonly name: 'direct' | 'weft';
  readonly address: HostPort;
  readonly authority: string | undefined;
  readonly sidecars: readonly ManagedProcess[];
}

interface Sample {
  readonly rps: number;
  readonly latenciesMs: Float64Array;
  readonly errors: number;
  readonly cpuPerRequestUs: number[];
  readonly rssMb: number[];
}

function call(client: Client): Promise<ServiceError | null> {
  return new Promise((resolve) => client.makeUnaryRequest(ECHO.path, ECHO.requestSerialize, ECHO.responseDeserialize, REQUEST, (error) => resolve(error)));
}

function clientFor(target: Target): Client {
  return new Client(formatHostPort(target.address), credentials.createInsecure(), target.authority ? { 'grpc.default_authority': target.authority } : {});
}

async function closedLoop(client: Client, concurrency: number, seconds: number): Promise<{ rps: number; errors: number }> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      if (await call(client)) errors++;
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rps: done / ((performance.now() - started) / 1000), errors };
}

/** Call k is due at t0 + k/rate; its latency counts from then, so a stall delays every call behind it. */
async function openLoop(client: Client, rate: number, seconds: number): Promise<{ latenciesMs: Float64Array; errors: number }> {
  const total = Math.round(rate * seconds);
  const latencies = new Float64Array(total);
  let errors = 0;
  let sent = 0;
  let finished = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      while (sent < total && t0 + (sent * 1000) / rate <= now) {
        const index = sent++;
        const due = t0 + (index * 1000) / rate;
        void call(client).then((error) => {
          latencies[index] = performance.now() - due;
          if (error) errors++;
          if (++finished === total) resolve();
        });
      }
      if (sent < total) setImmediate(tick);
    };
    tick();
  });
  return { latenciesMs: latencies.sort(), errors };
}

async function measure(target: Target, options: { concurrency: number; rate: number; seconds: number }): Promise<Sample> {
  const client = clientFor(target);
  try {
    await openLoop(client, options.rate, 0.5); // warm-up
    const pids = target.sidecars.map((sidecar) => sidecar.child.pid ?? 0);
    const cpuBefore = pids.map(cpuSeconds);
    const latency = await openLoop(client, options.rate, options.seconds);
    const requests = options.rate * options.seconds;
    const cpuPerRequestUs = pids.map((pid, index) => ((cpuSeconds(pid) - (cpuBefore[index] ?? 0)) / requests) * 1e6);
    const rssMb = pids.map(rssMegabytes);
    const throughput = await closedLoop(client, options.concurrency, options.seconds);
    return { rps: throughput.rps, latenciesMs: latency.latenciesMs, errors: latency.errors + throughput.errors, cpuPerRequestUs, rssMb };
  } finally {
    client.close();
  }
}

function figures(samples: readonly Sample[]): PathFigures & { errors: number } {
  const at = (p: number): number => Number(median(samples.map((sample) => percentile(sample.latenciesMs, p))).toFixed(3));
  const perProxy = samples[0]?.cpuPerRequestUs.length
    ? { cpuPer1kReqMs: Number(median(samples.map((sample) => Math.max(...sample.cpuPerRequestUs))).toFixed(1)), rssMb: Number(median(samples.map((sample) => Math.max(...sample.rssMb))).toFixed(1)) }
    : {};
  return { rps: Math.round(median(samples.map((sample) => sample.rps))), p50Ms: at(0.5), p99Ms: at(0.99), p999Ms: at(0.999), ...perProxy, errors: samples.reduce((sum, sample) => sum + sample.errors, 0) };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { reps: { type: 'string', default: '3' }, seconds: { type: 'string', default: '3' }, rate: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '32' } } });
  const options = { reps: Number(values.reps), seconds: Number(values.seconds), rate: Number(values.rate), concurrency: Number(values.concurrency) };
  for (const [name, value] of Object.entries(options)) if (!(value > 0)) throw new Error(`--${name}: a positive number, got ${String(value)}`);
  return inBenchEnvironment('bench-grpc', async ({ processes, pinning, root }) => {
    const app = new ManagedProcess('grpc app', ECHO_SERVER, ['--workload', 'app', '--listen', '127.0.0.1:0'], { env: { WEFT_LOG_LEVEL: 'warn' } });
    processes.onStop('grpc app', () => app.stop());
    const appAddress = await app.listening('app');
    await pinning.pin(app.child.pid, SERVER_CPU);
    const pair: WeftPair = await startWeftPair({ root, appPort: appAddress.port, processes, pinning, protocol: 'GRPC' });
    const targets: Target[] = [
      { name: 'direct', address: appAddress, authority: undefined, sidecars: [] },
      { name: 'weft', address: { host: '127.0.0.1', port: pair.port }, authority: APP_HOST, sidecars: [pair.client, pair.server] },
    ];
    const samples = new Map<Target['name'], Sample[]>(targets.map((target) => [target.name, []]));
    for (let rep = 1; rep <= options.reps; rep++) {
      for (const target of targets) {
        process.stderr.write(`bench:grpc: rep ${rep}, ${target.name}\n`);
        samples.get(target.name)?.push(await measure(target, options));
      }
    }
    const results = Object.fromEntries([...samples].map(([name, list]) => [name, figures(list)]));
    process.stdout.write(
      `weft bench/grpc — unary calls (grpc-js echo app), ${options.reps} interleaved reps, medians; throughput at ${options.concurrency} concurrent calls; latency open loop at ${options.rate} calls/s\n\n${table(
        ['path', 'calls/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'CPU ms per 1000 calls per sidecar', 'RSS MB per sidecar', 'errors'],
        Object.entries(results).map(([name, row]) => [name, String(row.rps), row.p50Ms.toFixed(3), row.p99Ms.toFixed(3), row.p999Ms.toFixed(3), row.cpuPer1kReqMs?.toFixed(1) ?? '', row.rssMb?.toFixed(1) ?? '', String(row.errors)]),
      )}\n`,
    );
    process.stdout.write(`\nsummary: ${await updateLatest('grpc', results, describeMachine('not used'))}\n`);
    return 0;
  });
}

process.exitCode = await main().catch((error: unknown) => {
  // A usage mistake: the message, not a stack trace.
  process.stderr.write(`bench:grpc: ${error instanceof Error ? error.message : String(error)}\n`);
  return 2;
});
