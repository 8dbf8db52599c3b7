// Network namespaces for tests, created and removed by the test itself: the host's own network
// namespace, its links, sysctls and rules are never touched. Names carry the test process's pid
// (weft-<pid>-<name>), so a later run removes what a killed run left behind without touching a
// run still going on in parallel.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const PREFIX = 'weft-';

/** Why netns tests cannot run here, or undefined when they can (root, iproute2, iptables, a namespace can be made). */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'netns tests need root (CI runs them as root)';
  for (const tool of ['ip', 'iptables-save', 'iptables-restore', 'setpriv']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `netns tests need ${tool} (apt-get install iproute2 iptables util-linux)`;
  }
  const probe = `${PREFIX}${process.pid}-probe`;
  const made = spawnSync('ip', ['netns', 'add', probe]);
  if (made.status !== 0) return `cannot create a network namespace: ${made.stderr.toString().trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

export async function run(command: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { encoding: 'utf8' });
    return stdout;
  } catch (error) {
    const failed = error as Error & { stderr?: string };
    throw new Error(`${command} ${args.join(' ')}: ${failed.stderr?.trim() || failed.message}`, { cause: error });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const LOCK = '/run/weft-netns-tests.lock';

/**
 * Makes this test process the only netns test running on the machine until `release` is called.
 * The netns files share host-wide state (the xtables lock, /run/netns, namespace churn) and each
 * keeps both cores busy, so two runs side by side (a developer's and CI's) would time each other
 * out. A lock held by a process that no longer runs is taken over.
 */
export async function exclusiveNetnsTests(timeoutMs = 300_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
    } catch {
      // Taken a moment ago: its pid file is not written yet.
    }
    if (Number.isInteger(holder) && !pidAlive(holder)) rmSync(LOCK, { recursive: true, force: true });
    else if (Date.now() > deadline) throw new Error(`another netns test (pid ${holder}) held ${LOCK} for ${timeoutMs} ms`);
    else await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Removes namespaces (and their hosts files) left by test processes that no longer run. */
export async function removeStaleNamespaces(): Promise<void> {
  for (const name of await listNamespaces()) {
    const match = /^weft-(\d+)-/.exec(name);
    if (match && !pidAlive(Number(match[1]))) await deleteNamespace(name);
  }
}

export async function listNamespaces(): Promise<string[]> {
  return (await run('ip', ['netns', 'list'])).split('\n').map((line) => line.split(' ')[0] ?? '').filter((name) => name !== '');
}

async function deleteNamespace(name: string): Promise<void> {
  // Deleting a namespace kills nothing: processes started in it are stopped by their owners.
  await run('ip', ['netns', 'del', name]).catch(() => undefined);
  rmSync(join('/etc/netns', name), { recursive: true, force: true });
}

/** A set of namespaces made by one test, removed together. */
export class NamespaceSet {
  private readonly names: string[] = [];
  private links = 0;

  /** Creates weft-<pid>-<short>, with loopback up. */
  async add(short: string): Promise<string> {
    const name = `${PREFIX}${process.pid}-${short}`;
    await run('ip', ['netns', 'add', name]);
    this.names.push(name);
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A veth pair between two namespaces (device names must fit in 15 characters). */
  async veth(a: string, b: string): Promise<{ a: string; b: string }> {
    const id = `${process.pid % 100_000}x${this.links++}`;
    const devices = { a: `wa${id}`, b: `wb${id}` };
    await run('ip', ['link', 'add', devices.a, 'netns', a, 'type', 'veth', 'peer', 'name', devices.b, 'netns', b]);
    return devices;
  }

  /** Runs a command inside `namespace` and returns its output. */
  exec(namespace: string, command: string, args: readonly string[]): Promise<string> {
    return run('ip', ['netns', 'exec', namespace, command, ...args]);
  }

  /** /etc/netns/<name>/hosts: `ip netns exec` shows it as /etc/hosts to what runs there. */
  writeHosts(namespace: string, entries: readonly [string, string][]): void {
    const dir = join('/etc/netns', namespace);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hosts'), `127.0.0.1 localhost\n${entries.map(([address, names]) => `${address} ${names}`).join('\n')}\n`);
  }

  async removeAll(): Promise<void> {
    for (const name of this.names.splice(0).reverse()) await deleteNamespace(name);
  }
}
