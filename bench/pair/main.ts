// bench/pair: one tiny app (nginx, fixed 200) reached three ways — directly, through a Weft
// sidecar pair, and through an nginx pair of the same shape — in interleaved repetitions, so
// drift on the machine hits all three alike; medians are printed as a table and the whole run
// is kept as JSON in bench/results/. Usage: npm run bench -- --help
import { join } from 'node:path';
import { cpuBusy, describeMachine, stallCensus } from './machine.ts';
import { measure, memory, type PathSample, type Target } from './measure.ts';
import { appServer, clientProxyServer, Nginx, nginxBuild, serverProxyServer, type NginxBuild } from './nginx.ts';
import { makeNginxTls } from './nginx-tls.ts';
import { parseOptions, USAGE, type BenchOptions } from './options.ts';
import { SERVER_CPU, type Pinning } from './pinning.ts';
import { freePort } from './ports.ts';
import { inBenchEnvironment } from './bench-environment.ts';
import type { Processes } from './processes.ts';
import { formatReport, latestFigures, summarise, writeRecord, type RunRecord } from './report.ts';
import { updateLatest } from '../latest.ts';
import { APP_HOST, startWeftPair } from './weft-pair.ts';
import { PROGRAMS } from '@weft/cli';
import { runWrk } from './wrk.ts';

/** Above this share of a CPU in use before we start anything, the figures will be skewed. */
const BUSY_WARNING = 0.1;

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

interface Setup {
  readonly processes: Processes;
  readonly pinning: Pinning;
  readonly build: NginxBuild;
  readonly root: string;
}

/** `listensTls`: probed by a TCP connection, since it answers no plaintext GET. */
async function startNginx(setup: Setup, name: string, server: (port: number) => string, listensTls = false): Promise<Nginx> {
  const port = await freePort();
  return Nginx.start({ name, root: setup.root, port, server: server(port), probeHost: listensTls ? undefined : APP_HOST, cpu: SERVER_CPU, build: setup.build, processes: setup.processes, pinning: setup.pinning });
}

/** Starts the app and both pairs; everything started is registered with `processes`. */
async function startTargets(setup: Setup, options: BenchOptions): Promise<Target[]> {
  progress('starting the app (nginx)');
  const app = await startNginx(setup, 'app', appServer);
  progress('starting the nginx pair');
  const tls = await makeNginxTls(join(setup.root, 'nginx-tls'));
  const nginxServer = await startNginx(setup, 'nginx-server', (port) => serverProxyServer(port, app.port, tls), true);
  const nginxClient = await startNginx(setup, 'nginx-client', (port) => clientProxyServer(port, nginxServer.port, tls));
  progress('starting the Weft pair (control plane, two sidecars)');
  const nodeArgs = options.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.profileDir];
  const proxyProgram = options.proxy === 'bundle' ? PROGRAMS.proxyBundle : PROGRAMS.proxy;
  const weft = await startWeftPair({ root: setup.root, appPort: app.port, processes: setup.processes, pinning: setup.pinning, nodeArgs, proxyProgram });
  const pidOf = (pid: number | undefined): number[] => (pid === undefined ? [] : [pid]);
  const exited = (...names: [string, boolean][]): string | undefined => {
    const dead = names.filter(([, running]) => !running).map(([name]) => name);
    return dead.length > 0 ? `${dead.join(' and ')} exited` : undefined;
  };
  return [
    { name: 'direct', port: app.port, hostHeader: APP_HOST, proxies: [], broken: () => exited(['app', app.running]) },
    {
      name: 'weft pair',
      port: weft.port,
      hostHeader: APP_HOST,
      proxies: [
        { name: 'client sidecar', pids: () => pidOf(weft.client.child.pid) },
        { name: 'server sidecar', pids: () => pidOf(weft.server.child.pid) },
      ],
      // The control plane is not on the request path: sidecars keep serving without it.
      broken: () => exited(['app', app.running], ['client sidecar', weft.client.running], ['server sidecar', weft.server.running]),
    },
    {
      name: 'nginx pair',
      port: nginxClient.port,
      hostHeader: APP_HOST,
      proxies: [
        { name: 'client nginx', pids: () => nginxClient.pids },
        { name: 'server nginx', pids: () => nginxServer.pids },
      ],
      broken: () => exited(['app', app.running], ['client nginx', nginxClient.running], ['server nginx', nginxServer.running]),
    },
  ];
}

/** Returns whether every planned measurement was made. */
async function run(options: BenchOptions, setup: Setup, warnings: string[], busy: number[]): Promise<boolean> {
  const startedAt = new Date().toISOString();
  const machine = describeMachine(setup.build.version);
  progress('measuring the noise floor (spin loop on each CPU)');
  const stalls = await stallCensus(setup.processes, setup.pinning, options.quick ? 1 : 2);
  const targets = await startTargets(setup, options);

  // Before any load: the memory a proxy costs just by being there.
  const idleRss = Object.fromEntries(targets.map((target) => [target.name, Object.fromEntries(target.proxies.map((proxy) => [proxy.name, memory(proxy.pids())]))]));

  // One short closed-loop run per path first, so the first measured repetition does not pay
  // for JIT compilation and connection set-up.
  for (const target of targets) {
    if (setup.processes.closing) throw new Error('interrupted');
    progress(`warm-up: ${target.name}`);
    try {
      await runWrk({ port: target.port, hostHeader: target.hostHeader, connections: options.connections, durationSeconds: 1, ...setup });
    } catch (error) {
      if (setup.processes.closing) throw new Error('interrupted', { cause: error });
      warnings.push(`warm-up, ${target.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  const samples: PathSample[] = [];
  const givenUp = new Set<string>();
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const target of targets) {
      if (setup.processes.closing) throw new Error('interrupted');
      if (givenUp.has(target.name)) continue;
      const broken = target.broken?.();
      if (broken) {
        // A path whose processes died cannot recover: say so once and measure the others.
        givenUp.add(target.name);
        warnings.push(`${target.name}: ${broken}; not measured from rep ${rep} on`);
        progress(`WARNING: ${warnings.at(-1) ?? ''}`);
        continue;
      }
      progress(`rep ${rep}/${options.reps}: ${target.name}`);
      try {
        const bystanders = targets.filter((other) => other !== target).flatMap((other) => other.proxies);
        samples.push(await measure(target, bystanders, rep, options, setup));
      } catch (error) {
        if (setup.processes.closing) throw new Error('interrupted', { cause: error });
        // One failed run (say, a proxy that fell over) should not cost the rest of the results.
        warnings.push(`rep ${rep}, ${target.name}: ${error instanceof Error ? error.message : String(error)}`);
        progress(`rep ${rep}, ${target.name} FAILED: ${String(error)}`);
      }
    }
  }

  const summary = summarise(
    targets.map((target) => target.name),
    samples,
    idleRss,
  );
  const record: RunRecord = { startedAt, machine, options, pinned: setup.pinning.enabled, cpuBusyBeforeRun: busy, stalls, idleRss, samples, summary, warnings };
  process.stdout.write(formatReport(record));
  const file = await writeRecord(record);
  const latest = await updateLatest('pair', latestFigures(summary), machine);
  process.stdout.write(`\nfull results: ${file}\nsummary: ${latest}\n`);
  return samples.length === targets.length * options.reps;
}

async function main(): Promise<number> {
  let options: BenchOptions | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    // A usage mistake: the message (and usage), not a stack trace.
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const benchOptions = options;
  return inBenchEnvironment('bench', async ({ processes, pinning, root }) => {
    const warnings: string[] = [];
    const busy = await cpuBusy();
    if (busy.some((share) => share > BUSY_WARNING)) {
      const shares = busy.map((share, cpu) => `cpu${cpu} ${Math.round(share * 100)}%`).join(', ');
      warnings.push(`the machine was not idle before the run (${shares} busy): other load skews every figure`);
      progress(`WARNING: ${warnings.at(-1) ?? ''}`);
    }
    const complete = await run(benchOptions, { processes, pinning, build: nginxBuild(), root }, warnings, busy);
    return complete ? 0 : 1;
  });
}

process.exitCode = await main();
