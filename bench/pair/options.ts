// Command-line flags of `npm run bench`. --quick is a smoke run; explicit flags override it.
import { parseArgs } from 'node:util';

export interface BenchOptions {
  readonly reps: number;
  /** Seconds per wrk (throughput) run. */
  readonly durationSeconds: number;
  /** wrk connections (closed loop). */
  readonly connections: number;
  /** Requests per second of the open-loop latency run. */
  readonly rate: number;
  /** Measured seconds per latency run, after `warmupSeconds` of unrecorded load. */
  readonly latencyDurationSeconds: number;
  readonly warmupSeconds: number;
  readonly maxConnections: number;
  readonly quick: boolean;
  /** Where the sidecars write V8 CPU profiles (--cpu-prof), if anywhere. */
  readonly profileDir: string | undefined;
  /** Which sidecar program runs: the shipped bundle, or the TypeScript sources (to compare). */
  readonly proxy: 'bundle' | 'sources';
}

export const USAGE = `usage: npm run bench -- [options]

  --reps N                 interleaved repetitions (default 3; medians are reported)
  --duration S             seconds per throughput (wrk) run (default 5)
  --connections C          wrk connections (default 32)
  --rate R                 requests/s of the open-loop latency run (default 1000)
  --latency-duration S     measured seconds per latency run (default 5)
  --warmup S               unrecorded seconds before each latency run (default 1)
  --max-connections N      open-loop connection cap (default 256)
  --quick                  smoke run: 1 rep, 2 s runs, 0.5 s warm-up
  --profile DIR            the Weft sidecars write CPU profiles (.cpuprofile) into DIR
  --proxy bundle|sources   the sidecar as shipped (one bundled .mjs; default) or its TypeScript sources`;

function number(name: string, text: string | undefined, fallback: number, integer = false): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) throw new Error(`--${name}: expected a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
  return value;
}

/** Parsed options, or undefined when --help was asked for; throws on a usage mistake. */
export function parseOptions(argv: readonly string[]): BenchOptions | undefined {
  try {
    return parse(argv);
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`, { cause: error });
  }
}

function parse(argv: readonly string[]): BenchOptions | undefined {
  // parseArgs is strict: an unknown flag is an error, not silently ignored.
  const { values } = parseArgs({
    args: [...argv],
    options: {
      reps: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      rate: { type: 'string' },
      'latency-duration': { type: 'string' },
      warmup: { type: 'string' },
      'max-connections': { type: 'string' },
      quick: { type: 'boolean', default: false },
      profile: { type: 'string' },
      proxy: { type: 'string', default: 'bundle' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return undefined;
  if (values.proxy !== 'bundle' && values.proxy !== 'sources') throw new Error(`--proxy: expected bundle or sources, got "${values.proxy}"`);
  const quick = values.quick;
  return {
    reps: number('reps', values.reps, quick ? 1 : 3, true),
    durationSeconds: number('duration', values.duration, quick ? 2 : 5, true),
    connections: number('connections', values.connections, 32, true),
    rate: number('rate', values.rate, 1000),
    latencyDurationSeconds: number('latency-duration', values['latency-duration'], quick ? 2 : 5),
    warmupSeconds: number('warmup', values.warmup, quick ? 0.5 : 1),
    maxConnections: number('max-connections', values['max-connections'], 256, true),
    quick,
    profileDir: values.profile,
    proxy: values.proxy,
  };
}
