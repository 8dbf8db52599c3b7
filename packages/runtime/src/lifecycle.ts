// Process lifecycle shared by Weft's programs: a readiness line on stdout for supervisors
// (tests, `weft demo`), orderly shutdown on SIGTERM/SIGINT, and a clear message instead of a
// stack trace when start-up fails.
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import type { HostPort } from './address.ts';

/**
 * Logs that a listener is bound. Supervisors wait for this line to learn ephemeral ports:
 * {"msg":"listening","listener":"<name>","address":"<host>","port":<port>}
 */
export function logListening(log: Logger, listener: string, bound: HostPort): void {
  // A supervisor protocol more than a log line: emitted even when the log level is above info.
  log.child({}, { level: 'info' }).info({ listener, address: bound.host, port: bound.port }, 'listening');
}

/**
 * Calls `stop` once on the first SIGTERM or SIGINT; a second signal exits at once.
 * `stop` resolves when the process may exit.
 */
export function stopOnSignals(log: Logger, stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Runs a program's main; a failure prints its message (not a stack) and exits 1. */
export function runMain(log: Logger, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    log.fatal({ err: error }, error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  });
}

type FlagOptions = Record<string, { type: 'string'; default?: string }>;

/**
 * Parses a program's flags, adding the two every program has: --help prints `usage` (and
 * returns undefined: the program should end), --log-level sets the logger's level.
 */
export function parseProgramFlags<T extends FlagOptions>(log: Logger, usage: string, options: T): { [K in keyof T]: T[K] extends { default: string } ? string : string | undefined } | undefined {
  const { values } = parseArgs({ options: { ...options, help: { type: 'boolean' }, 'log-level': { type: 'string' } } }) as { values: Record<string, string | boolean | undefined> };
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return undefined;
  }
  if (typeof values['log-level'] === 'string') log.level = values['log-level'];
  return values as never;
}
