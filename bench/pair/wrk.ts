// Closed-loop maximum throughput with wrk: a fixed number of keep-alive connections, each
// sending its next request as soon as the previous answer arrives.
import { CLIENT_CPU, type Pinning } from './pinning.ts';
import type { Processes } from './processes.ts';

export interface WrkResult {
  readonly requestsPerSecond: number;
  readonly requests: number;
  /** Non-2xx/3xx answers plus socket errors (connect, read, write, timeout). */
  readonly errors: number;
  readonly output: string;
}

export interface WrkOptions {
  readonly port: number;
  readonly hostHeader: string;
  readonly connections: number;
  readonly durationSeconds: number;
  readonly processes: Processes;
  readonly pinning: Pinning;
}

function count(output: string, pattern: RegExp): number {
  return Number(pattern.exec(output)?.[1] ?? 0);
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  // One thread: the load generator gets one core, like the system under test.
  const wrkArgs = ['-t1', `-c${options.connections}`, `-d${options.durationSeconds}s`, '-H', `Host: ${options.hostHeader}`, `http://127.0.0.1:${options.port}/`];
  const [command, args] = options.pinning.command(CLIENT_CPU, 'wrk', wrkArgs);
  const result = await options.processes.run(command, args, (options.durationSeconds + 30) * 1000);
  const output = result.stdout;
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (result.code !== 0 || !rate) throw new Error(`wrk failed (${result.code ?? result.signal}):\n${output}${result.stderr}`);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors = count(output, /Non-2xx or 3xx responses: (\d+)/) + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return { requestsPerSecond: Number(rate[1]), requests: count(output, /(\d+) requests in/), errors, output };
}
