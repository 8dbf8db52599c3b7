// bench/soak (`npm run soak`): a long open-loop run through a Weft pair — control plane with its
// CA, client sidecar → mTLS → server sidecar → app — with retries and outlier detection on, to
// catch what a short benchmark cannot: memory that creeps, descriptors or handles that are never
// given back, errors that come only after minutes. Every `--sample-interval` it records each
// sidecar's RSS, open fds and active handles; at the end it prints a Markdown table and one JSON
// line, with a verdict. Usage: npm run soak -- [--duration 10m] [--rate 1000] (--help)
import { parseArgs } from 'node:util';
import { ManagedProcess, PROGRAMS, type MeshDocument } from '@weft/cli';
import { parseDuration, pollUntil, type HostPort } from '@weft/runtime';
import { inBenchEnvironment } from '../pair/bench-environment.ts';
import { runOpenLoop } from '../pair/latency.ts';
import type { OpenLoopResult } from '../pair/open-loop.ts';
import { SERVER_CPU } from '../pair/pinning.ts';
import { table } from '../pair/report.ts';
import { APP_HOST, startWeftPair } from '../pair/weft-pair.ts';
import { sidecarResources, type SidecarResources } from './sidecar-resources.ts';
import { leastSquaresSlope } from './trend.ts';

const USAGE = `usage: npm run soak -- [options]

  --duration D          how long the load runs (default 10m; 30s, 2m, 1h...)
  --rate R              requests/s, open loop (default 1000)
  --sample-interval D   how often each sidecar's RSS, fds and handles are read (default 10s)
  --warmup D            samples before this are left out of the RSS slope (default 1m)
  --max-slope MB        RSS growth per minute above which the run fails (default 2)`;

/**
 * Growth of RSS per sidecar and fds / handles after vs before that fail the run. 2 MB/min at
 * 1000 req/s is 35 bytes kept per request, 20 MB over the 10-minute run: a leak of one small
 * object per request shows, while V8 sizing its heap over the first minutes (left out by the
 * warm-up) does not. Descriptors and handles come back to idle once connections close; 10 is
 * the slack for connections a client (this script's probes) has not closed yet.
 */
const LEAK_SLACK = 10;

/** A retrying route and outlier detection for the app, as a production mesh would have them. */
const ROUTING: MeshDocument[] = [
  {
    apiVersion: 'mesh.weft.dev/v1alpha1',
    kind: 'TrafficRoute',
    metadata: { name: 'app' },
    spec: { hosts: ['app'], http: [{ name: 'soak', route: [{ destination: { host: 'app' } }], timeout: '5s', retries: { attempts: 2, perTryTimeout: '2s', retryOn: 'connect-failure,refused-stream,reset,503' } }] },
  },
  {
    apiVersion: 'mesh.weft.dev/v1alpha1',
    kind: 'DestinationPolicy',
    metadata: { name: 'app' },
    spec: { host: 'app', trafficPolicy: { outlierDetection: { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 100 } } },
  },
];

interface SoakOptions {
  readonly durationSeconds: number;
  readonly rate: number;
  readonly sampleSeconds: number;
  readonly warmupSeconds: number;
  readonly maxSlopeMbPerMinute: number;
}

interface Sidecar {
  readonly name: 'client' | 'server';
  readonly pid: number;
  readonly stats: HostPort;
}

interface Sample {
  /** Seconds since the load started. */
  readonly t: number;
  readonly bySidecar: Record<Sidecar['name'], SidecarResources>;
}

function parseOptions(argv: readonly string[]): SoakOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string', default: '10m' },
      rate: { type: 'string', default: '1000' },
      'sample-interval': { type: 'string', default: '10s' },
      warmup: { type: 'string', default: '1m' },
      'max-slope': { type: 'string', default: '2' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return undefined;
  const positive = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: a positive number, got "${text}"`);
    return value;
  };
  return {
    durationSeconds: parseDuration(values.duration, '--duration'),
    rate: positive('rate', values.rate),
    sampleSeconds: parseDuration(values['sample-interval'], '--sample-interval'),
    warmupSeconds: parseDuration(values.warmup, '--warmup'),
    maxSlopeMbPerMinute: positive('max-slope', values['max-slope']),
  };
}

async function sampleAll(sidecars: readonly Sidecar[], t: number): Promise<Sample> {
  const readings = await Promise.all(sidecars.map(async (sidecar) => [sidecar.name, await sidecarResources(sidecar.pid, sidecar.stats)] as const));
  return { t, bySidecar: Object.fromEntries(readings) as Sample['bySidecar'] };
}

interface SidecarSummary {
  readonly rssFirstMb: number;
  readonly rssLastMb: number;
  /** Least squares over the samples after the warm-up; null when there are too few. */
  readonly rssSlopeMbPerMinute: number | null;
  readonly fdsBefore: number;
  readonly fdsAfter: number;
  readonly handlesBefore: number;
  readonly handlesAfter: number;
}

function summarise(name: Sidecar['name'], before: Sample, during: readonly Sample[], after: Sample, warmupSeconds: number): SidecarSummary {
  const rss = during.map((sample) => ({ x: sample.t / 60, y: sample.bySidecar[name].rssMb }));
  const slope = leastSquaresSlope(rss.filter((point) => point.x * 60 >= warmupSeconds));
  const round = (value: number): number => Number(value.toFixed(2));
  return {
    rssFirstMb: round(rss[0]?.y ?? Number.NaN),
    rssLastMb: round(rss.at(-1)?.y ?? Number.NaN),
    rssSlopeMbPerMinute: slope === undefined ? null : round(slope),
    fdsBefore: before.bySidecar[name].fds,
    fdsAfter: after.bySidecar[name].fds,
    handlesBefore: before.bySidecar[name].handles,
    handlesAfter: after.bySidecar[name].handles,
  };
}

function verdict(load: OpenLoopResult, errors: number, sidecars: Record<string, SidecarSummary>, options: SoakOptions): { pass: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (errors > 0) reasons.push(`${errors} of ${load.measured} requests failed`);
  for (const [name, summary] of Object.entries(sidecars)) {
    if (summary.rssSlopeMbPerMinute === null) reasons.push(`${name}: RSS slope not measured (fewer than 3 samples after the ${options.warmupSeconds} s warm-up): not a pass`);
    else if (summary.rssSlopeMbPerMinute > options.maxSlopeMbPerMinute) reasons.push(`${name}: RSS grows ${summary.rssSlopeMbPerMinute} MB/min (limit ${options.maxSlopeMbPerMinute})`);
    if (summary.fdsAfter > summary.fdsBefore + LEAK_SLACK) reasons.push(`${name}: ${summary.fdsAfter - summary.fdsBefore} more file descriptors after the run`);
    if (summary.handlesAfter > summary.handlesBefore + LEAK_SLACK) reasons.push(`${name}: ${summary.handlesAfter - summary.handlesBefore} more active handles after the run`);
  }
  return { pass: reasons.length === 0, reasons };
}

function report(options: SoakOptions, load: OpenLoopResult, errors: Record<string, number>, sidecars: Record<string, SidecarSummary>, outcome: { pass: boolean; reasons: string[] }): string {
  const fixed = (value: number | null): string => (value === null ? 'n/a' : value.toFixed(2));
  const ms = (us: number): string => (us / 1000).toFixed(1);
  const errorText = Object.entries(errors).map(([kind, count]) => `${kind}: ${count}`).join(', ') || 'none';
  return [
    `weft soak — ${options.durationSeconds} s at ${options.rate} req/s, open loop, through a sidecar pair with mTLS, retries and outlier detection`,
    '',
    `requests: ${load.measured}, answered 2xx: ${load.ok}, errors: ${errorText}`,
    `latency of the 2xx from each request's due time: p50 ${ms(load.latencyUs.p50)} ms, p99 ${ms(load.latencyUs.p99)} ms, max ${ms(load.latencyUs.max)} ms (a pair that falls behind shows here first; "timeout" counts requests still unanswered 2 s after the last one was due)`,
    '',
    table(
      ['sidecar', 'RSS first MB', 'RSS last MB', 'RSS slope MB/min', 'fds before', 'fds after', 'handles before', 'handles after'],
      Object.entries(sidecars).map(([name, s]) => [name, fixed(s.rssFirstMb), fixed(s.rssLastMb), fixed(s.rssSlopeMbPerMinute), String(s.fdsBefore), String(s.fdsAfter), String(s.handlesBefore), String(s.handlesAfter)]),
    ),
    '',
    `RSS slope: least squares over the samples after the first ${options.warmupSeconds} s; before/after: the pair idle before the load and once its connections have closed.`,
    `verdict: ${outcome.pass ? 'PASS' : 'FAIL'}${outcome.reasons.length > 0 ? ` — ${outcome.reasons.join('; ')}` : ''}`,
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const progress = (message: string): void => {
    process.stderr.write(`soak: ${message}\n`);
  };
  return inBenchEnvironment(
    'soak',
    async ({ processes, pinning, root }) => {
      const app = new ManagedProcess('app', PROGRAMS.demoApp, ['--workload', 'app', '--service', 'app'], { env: { WEFT_LOG_LEVEL: 'warn' } });
      processes.onStop('app', () => app.stop());
      const appAddress = await app.listening('app');
      await pinning.pin(app.child.pid, SERVER_CPU);
      progress('starting the Weft pair (control plane with its CA, two sidecars, mTLS)');
      const pair = await startWeftPair({ root, appPort: appAddress.port, processes, pinning, routing: ROUTING });
      const sidecars: Sidecar[] = await Promise.all(
        ([['client', pair.client], ['server', pair.server]] as const).map(async ([name, managed]) => ({ name, pid: managed.child.pid as number, stats: await managed.listening('stats') })),
      );
      const before = await sampleAll(sidecars, 0);

      progress(`load: ${options.rate} req/s for ${options.durationSeconds} s; a sample every ${options.sampleSeconds} s`);
      const started = performance.now();
      const elapsed = (): number => (performance.now() - started) / 1000;
      const samples: Sample[] = [];
      let sampling = Promise.resolve();
      const timer = setInterval(() => {
        sampling = sampling.then(async () => {
          const sample = await sampleAll(sidecars, elapsed());
          samples.push(sample);
          progress(`${sample.t.toFixed(0)} s: ${sidecars.map(({ name }) => `${name} RSS ${sample.bySidecar[name].rssMb.toFixed(1)} MB, ${sample.bySidecar[name].fds} fds, ${sample.bySidecar[name].handles} handles`).join('; ')}`);
        });
      }, options.sampleSeconds * 1000);
      let load: OpenLoopResult;
      try {
        load = await runOpenLoop({ port: pair.port, hostHeader: APP_HOST, rate: options.rate, durationSeconds: options.durationSeconds, warmupSeconds: 0, maxConnections: 64, processes, pinning });
      } finally {
        clearInterval(timer);
        await sampling;
      }

      // Idle again: the generator's connections are gone once the client sidecar's fds are back.
      const after = await pollUntil('the pair to be idle again', 15_000, async () => {
        const sample = await sampleAll(sidecars, elapsed());
        return sidecars.every(({ name }) => sample.bySidecar[name].fds <= before.bySidecar[name].fds) ? sample : undefined;
      }).catch(() => sampleAll(sidecars, elapsed()));

      const { status: _status, ...failures } = load.errors;
      const errors = Object.fromEntries(Object.entries({ ...load.errorStatuses, ...failures }).filter(([, count]) => count > 0));
      const errorCount = Object.values(errors).reduce((sum, count) => sum + count, 0);
      const bySidecar = Object.fromEntries(sidecars.map(({ name }) => [name, summarise(name, before, samples, after, options.warmupSeconds)]));
      const outcome = verdict(load, errorCount, bySidecar, options);
      process.stdout.write(report(options, load, errors, bySidecar, outcome));
      const latencyMs = Object.fromEntries((['p50', 'p99', 'max'] as const).map((key) => [key, Number((load.latencyUs[key] / 1000).toFixed(1))]));
      const summary = { durationSeconds: options.durationSeconds, rate: options.rate, requests: load.measured, ok: load.ok, errors, latencyMs, samples: samples.length, sidecars: bySidecar, verdict: outcome };
      process.stdout.write(`soak: ${JSON.stringify(summary)}\n`);
      return outcome.pass ? 0 : 1;
    },
    [],
  );
}

process.exitCode = await main().catch((error: unknown) => {
  // A usage mistake: the message and the usage, not a stack trace.
  process.stderr.write(`soak: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
  return 2;
});
