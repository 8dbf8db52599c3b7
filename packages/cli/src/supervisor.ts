// Runs Weft's programs (and demo apps) as child processes: reads their JSON log lines, learns
// the ports they bound from their "listening" lines, and stops them — SIGTERM, then SIGKILL
// after a grace period. Used by `weft demo` and by the loopback tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { HostPort } from '@weft/runtime';

export type LogRecord = Record<string, unknown> & { msg?: string };

interface Waiter {
  readonly predicate: (record: LogRecord) => boolean;
  readonly resolve: (record: LogRecord) => void;
}

/** How many output lines are kept for diagnostics. */
const KEPT_LINES = 200;

export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly records: LogRecord[] = [];
  private readonly lines: string[] = [];
  private readonly waiters = new Set<Waiter>();

  /**
   * `prefix`: a command that execs Node in the end, e.g. `ip netns exec NS` or `setpriv --reuid=1337 ...`,
   * so signals still reach the program itself.
   */
  constructor(name: string, script: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; echo?: (line: string) => void; prefix?: readonly string[]; nodeArgs?: readonly string[] } = {}) {
    this.name = name;
    const [command, ...commandArgs] = [...(options.prefix ?? []), process.execPath, ...(options.nodeArgs ?? []), script, ...args] as [string, ...string[]];
    this.child = spawn(command, commandArgs, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        options.echo?.(line);
        this.lines.push(line);
        if (this.lines.length > KEPT_LINES) this.lines.shift();
        const record = parseRecord(line);
        if (!record) return;
        this.records.push(record);
        if (this.records.length > KEPT_LINES) this.records.shift();
        for (const waiter of this.waiters) {
          if (!waiter.predicate(record)) continue;
          this.waiters.delete(waiter);
          waiter.resolve(record);
        }
      });
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last output lines, for failure messages. */
  output(): string {
    return this.lines.join('\n');
  }

  /** Resolves with the first log record (past or future) that satisfies `predicate`. */
  waitForLog(predicate: (record: LogRecord) => boolean, timeoutMs = 10_000, what = 'log line'): Promise<LogRecord> {
    const seen = this.records.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (record) => {
          clearTimeout(timer);
          resolve(record);
        },
      };
      const fail = (why: string): void => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.name}: ${why} while waiting for ${what}\n--- output ---\n${this.output()}`));
      };
      const timer = setTimeout(() => fail(`no ${what} within ${timeoutMs}ms`), timeoutMs);
      this.waiters.add(waiter);
      void this.exited.then(({ code, signal }) => {
        if (this.waiters.has(waiter)) {
          clearTimeout(timer);
          fail(`exited (${code ?? signal})`);
        }
      });
    });
  }

  /** The address a listener of the process bound, from its "listening" line. */
  async listening(listener: string, timeoutMs = 10_000): Promise<HostPort> {
    const record = await this.waitForLog((r) => r.msg === 'listening' && r.listener === listener, timeoutMs, `listener ${listener}`);
    return { host: record.address as string, port: record.port as number };
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Ends the process at once, as a crash would. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

function parseRecord(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as LogRecord) : undefined;
  } catch {
    return undefined;
  }
}
