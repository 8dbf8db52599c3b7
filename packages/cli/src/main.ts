#!/usr/bin/env node
// weft: the command line. Subcommands are a registry; each parses its own flags.
import { parseArgs } from 'node:util';
import { caCommand } from './ca/ca-command.ts';
import { UsageError } from './ca/subcommand.ts';
import { checkCommand } from './check/check-command.ts';
import { runDemo } from './demo/demo.ts';
import { injectCommand } from './inject/inject-command.ts';
import { installCommand } from './install/install-command.ts';
import { proxyConfigCommand } from './proxy-config/proxy-config-command.ts';
import { proxyStatusCommand } from './status/proxy-status-command.ts';

interface Command {
  readonly summary: string;
  readonly usage: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  demo: {
    summary: 'run a small mesh on loopback and show its live traffic',
    usage: `usage: weft demo [--duration SECONDS] [--json] [--rate REQUESTS_PER_SECOND]

  --duration N  run N seconds, print a summary and exit (default: until Ctrl-C)
  --json        print the summary as one JSON object on stdout (progress goes to stderr)
  --rate R      requests per second sent to the frontend (default 50)`,
    async run(args) {
      const { values } = parseArgs({ args, options: { duration: { type: 'string' }, json: { type: 'boolean', default: false }, rate: { type: 'string', default: '50' } } });
      const duration = values.duration === undefined ? undefined : Number(values.duration);
      const rate = Number(values.rate);
      if (duration !== undefined && !(duration > 0)) throw new UsageError(`--duration must be a positive number of seconds, got "${values.duration}"`);
      if (!(rate > 0 && rate <= 5000)) throw new UsageError(`--rate must be between 1 and 5000, got "${values.rate}"`);
      return runDemo({ durationSeconds: duration, json: values.json, ratePerSecond: rate, stdout: process.stdout, stderr: process.stderr });
    },
  },
  ca: caCommand,
  inject: injectCommand,
  install: installCommand,
  check: checkCommand,
  'proxy-status': proxyStatusCommand,
  'proxy-config': proxyConfigCommand,
};

function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(14)}${command.summary}`);
  return `usage: weft COMMAND [options]\n\ncommands:\n${lines.join('\n')}\n\nweft COMMAND --help shows a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`weft: unknown command "${name}"\n${help()}\n`);
    return 2;
  }
  if (args.includes('--help')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (error) {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`weft ${name}: ${(error as Error).message}\n${usage ? `${command.usage}\n` : ''}`);
    return usage ? 2 : 1;
  }
}

// `weft install | head`: the reader went away, which is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2));
