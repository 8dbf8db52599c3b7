// Owns everything the benchmark starts: orderly stops run on success, on error and on
// SIGINT/SIGTERM, and any pid still registered is SIGKILLed if the process exits some other
// way — so no nginx, proxy or generator outlives a run. Only pids registered here are touched.
import { spawn } from 'node:child_process';

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15 };

export class Processes {
  private readonly stops: { readonly name: string; readonly stop: () => Promise<void> }[] = [];
  private readonly pids = new Set<number>();
  private stopping: Promise<void> | undefined;

  /** Registers an orderly stop; stops run in reverse order of registration. */
  onStop(name: string, stop: () => Promise<void>): void {
    this.stops.push({ name, stop });
  }

  /** Pids to SIGKILL should the benchmark exit without stopping them. */
  track(pid: number | undefined): void {
    if (pid !== undefined) this.pids.add(pid);
  }

  untrack(pid: number | undefined): void {
    if (pid !== undefined) this.pids.delete(pid);
  }

  /** True once stopping has begun (a signal arrived): nothing new should be started. */
  get closing(): boolean {
    return this.stopping !== undefined;
  }

  /** Runs every registered stop once, newest first; failures are reported, not thrown. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const { name, stop } of [...this.stops].reverse()) {
        try {
          await stop();
        } catch (error) {
          process.stderr.write(`bench: stopping ${name} failed: ${String(error)}\n`);
        }
      }
      this.killNow();
    })();
    return this.stopping;
  }

  /** SIGKILL for every pid still registered (synchronous: usable in an 'exit' handler). */
  killNow(): void {
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.pids.clear();
  }

  /** First SIGINT/SIGTERM: orderly stop, then exit; a second one: kill at once. */
  installHandlers(): void {
    process.on('exit', () => this.killNow());
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        const code = 128 + (SIGNAL_NUMBERS[signal] ?? 1);
        if (this.stopping) {
          this.killNow();
          process.exit(code);
        }
        process.stderr.write(`\nbench: ${signal}: stopping everything it started\n`);
        void this.stopAll().finally(() => process.exit(code));
      });
    }
  }

  /** Runs a command to completion, tracked while it runs; SIGKILLed after `timeoutMs`. */
  run(command: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.track(child.pid);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (error) => {
        clearTimeout(timer);
        this.untrack(child.pid);
        reject(error);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        this.untrack(child.pid);
        resolve({ code, signal, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() });
      });
    });
  }
}
