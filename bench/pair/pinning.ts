// CPU pinning with taskset: the system under test (app and the proxy pair) on one core, the
// load generator (and this orchestrator) on the other, so they do not steal each other's time.
// Without taskset everything runs unpinned, with a warning.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The core for the app and the proxies under test. */
export const SERVER_CPU = 0;
/** The core for load generators and the orchestrator. */
export const CLIENT_CPU = 1;

export class Pinning {
  readonly enabled: boolean;

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  /** Pins every thread of a running process (threads it starts later inherit the mask). */
  async pin(pid: number | undefined, cpu: number): Promise<void> {
    if (!this.enabled || pid === undefined) return;
    await execFileAsync('taskset', ['-a', '-cp', String(cpu), String(pid)]);
  }

  /** Command and arguments that start `command` pinned to `cpu` (its children inherit it). */
  command(cpu: number, command: string, args: readonly string[]): [string, string[]] {
    return this.enabled ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, [...args]];
  }
}
