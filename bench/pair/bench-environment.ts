// What every benchmark runs inside: the prerequisites checked (or installed), this process
// pinned off the core under test, a temporary directory, and every process it starts stopped
// at the end — also on an error or a signal.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_CPU, Pinning } from './pinning.ts';
import { ensurePrerequisites } from './prerequisites.ts';
import { Processes } from './processes.ts';

export interface BenchEnvironment {
  readonly processes: Processes;
  readonly pinning: Pinning;
  /** A fresh temporary directory, removed after every process using it has stopped. */
  readonly root: string;
}

/**
 * Runs `body`; its exit status, or 1 after an error (reported unless a signal caused it).
 * `required`: the commands it cannot run without (default: what bench/pair needs).
 */
export async function inBenchEnvironment(name: string, body: (environment: BenchEnvironment) => Promise<number>, required?: readonly string[]): Promise<number> {
  const pinning = new Pinning(ensurePrerequisites(required).taskset);
  const processes = new Processes();
  processes.installHandlers();
  // The orchestrator (and the control plane it starts) stays off the core under test.
  await pinning.pin(process.pid, CLIENT_CPU);
  const root = await mkdtemp(join(tmpdir(), `weft-${name}-`));
  // Registered first, so it runs last.
  processes.onStop('temporary directory', () => rm(root, { recursive: true, force: true }));
  try {
    return await body({ processes, pinning, root });
  } catch (error) {
    // After a signal, failures are just the stop catching up with the run: say nothing more.
    if (!processes.closing) process.stderr.write(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  } finally {
    process.stderr.write(`${name}: stopping everything\n`);
    await processes.stopAll();
  }
}
