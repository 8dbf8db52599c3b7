// Runs the open-loop generator (open-loop.ts) as its own process on the load core and reads
// its one-line JSON result.
import { fileURLToPath } from 'node:url';
import type { OpenLoopResult } from './open-loop.ts';
import { CLIENT_CPU, type Pinning } from './pinning.ts';
import type { Processes } from './processes.ts';

const GENERATOR = fileURLToPath(new URL('./open-loop.ts', import.meta.url));

export interface LatencyOptions {
  readonly port: number;
  readonly hostHeader: string;
  readonly rate: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly maxConnections: number;
  readonly processes: Processes;
  readonly pinning: Pinning;
}

/**
 * The spin loop makes ~200 MB/s of short-lived garbage (one Immediate per turn). A 64 MB young
 * generation turns ~100 sub-millisecond scavenges a second into a few per second; single-threaded
 * GC keeps the collector from waiting on helper threads that share the one core.
 */
const NODE_FLAGS = ['--single-threaded-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];

export async function runOpenLoop(options: LatencyOptions): Promise<OpenLoopResult> {
  const generatorArgs = [
    ...NODE_FLAGS,
    GENERATOR,
    '--port',
    String(options.port),
    '--host-header',
    options.hostHeader,
    '--rate',
    String(options.rate),
    '--duration',
    String(options.durationSeconds),
    '--warmup',
    String(options.warmupSeconds),
    '--max-connections',
    String(options.maxConnections),
  ];
  // process.execPath: the same Node 24 that runs this file (the system node cannot run .ts).
  const [command, args] = options.pinning.command(CLIENT_CPU, process.execPath, generatorArgs);
  const result = await options.processes.run(command, args, (options.durationSeconds + options.warmupSeconds + 30) * 1000);
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.code !== 0 || !line.startsWith('{')) throw new Error(`open-loop generator failed (${result.code ?? result.signal}):\n${result.stdout}${result.stderr}`);
  return JSON.parse(line) as OpenLoopResult;
}
