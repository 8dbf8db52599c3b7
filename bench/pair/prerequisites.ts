// The tools the benchmark drives: nginx, wrk and openssl (the nginx pair's mTLS certificates)
// are required; taskset is wanted (without it
// the run is unpinned). As root with apt, missing ones are installed; otherwise the user is
// told what to install.
import { spawnSync } from 'node:child_process';

const PACKAGES = ['nginx-light', 'wrk', 'util-linux', 'openssl'];

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** What bench/pair and the benchmarks built on it cannot run without. */
const REQUIRED = ['nginx', 'wrk', 'openssl'];

function missing(required: readonly string[]): string[] {
  return [...required, 'taskset'].filter((command) => !onPath(command));
}

function apt(args: string[]): boolean {
  process.stderr.write(`bench: apt-get ${args.join(' ')}\n`);
  return spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
}

/** Returns whether taskset is available; exits with status 2 when a `required` command is missing. */
export function ensurePrerequisites(required: readonly string[] = REQUIRED): { taskset: boolean } {
  let absent = missing(required);
  if (absent.length > 0 && process.getuid?.() === 0 && onPath('apt-get')) {
    process.stderr.write(`bench: missing ${absent.join(', ')}; installing ${PACKAGES.join(' ')}\n`);
    // The package lists may be stale or absent: update only if a plain install fails.
    if (!apt(['install', '-y', ...PACKAGES])) {
      if (apt(['update'])) apt(['install', '-y', ...PACKAGES]);
    }
    absent = missing(required);
  }
  const lacking = absent.filter((command) => command !== 'taskset');
  if (lacking.length > 0) {
    process.stderr.write(
      `bench: needs ${lacking.join(' and ')} on PATH.\n` +
        `  Debian/Ubuntu: sudo apt-get install -y ${PACKAGES.join(' ')}\n` +
        `  (nginx is only run as the benchmark's own child, with its own config; the system service is not used)\n`,
    );
    process.exit(2);
  }
  if (absent.includes('taskset')) process.stderr.write('bench: WARNING: taskset not found (package util-linux): running unpinned, results will be noisier\n');
  return { taskset: !absent.includes('taskset') };
}
