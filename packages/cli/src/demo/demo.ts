// `weft demo`: a small mesh on loopback (scenario.ts) — every app with its sidecar, the control
// plane reading a mesh file and issuing SPIFFE certificates (STRICT mTLS between sidecars),
// traffic driven in through a load generator's sidecar, and a live table of what the sidecars
// measured: services, the orders replicas (the canary split, the flaky replica) and ejections.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { request } from 'undici';
import { formatHostPort } from '@weft/runtime';
import { LoopbackMesh } from './loopback-mesh.ts';
import { CANARY_WEIGHT, ROUTING, SERVICES, WORKLOADS } from './scenario.ts';
import { formatTable, serviceStats, type ServiceStats } from './service-stats.ts';
import { checkSecurity, type SecuritySummary } from './security-check.ts';
import { TrafficDriver } from './traffic.ts';

export interface DemoOptions {
  /** Seconds of traffic; undefined runs until interrupted. */
  readonly durationSeconds: number | undefined;
  readonly json: boolean;
  readonly ratePerSecond: number;
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable;
}

async function scrape(mesh: LoopbackMesh, workload: string): Promise<string> {
  const stats = mesh.workload(workload).stats;
  const response = await request(`http://${formatHostPort(stats)}/stats/prometheus`);
  return response.body.text();
}

async function collect(mesh: LoopbackMesh): Promise<{ services: ServiceStats[]; perWorkload: Map<string, ServiceStats> }> {
  const names = WORKLOADS.filter((spec) => spec.service).map((spec) => spec.name);
  const texts = new Map(await Promise.all(names.map(async (name) => [name, await scrape(mesh, name)] as const)));
  const perWorkload = new Map(names.map((name) => [name, serviceStats(name, [texts.get(name) as string])]));
  const services = SERVICES.map((service) =>
    serviceStats(
      service,
      WORKLOADS.filter((spec) => spec.service === service).map((spec) => texts.get(spec.name) as string),
    ),
  );
  return { services, perWorkload };
}

const ORDERS = WORKLOADS.filter((spec) => spec.service === 'orders').map((spec) => spec.name);

/** The canary's share of orders requests, in percent (null before any). */
function canaryShare(perWorkload: Map<string, ServiceStats>): number | null {
  const total = ORDERS.reduce((sum, name) => sum + (perWorkload.get(name)?.requests ?? 0), 0);
  return total === 0 ? null : Math.round((1000 * (perWorkload.get('orders-v2')?.requests ?? 0)) / total) / 10;
}

/** Times the frontend's sidecar ejected an orders endpoint (outlier detection). */
async function ejections(mesh: LoopbackMesh): Promise<number> {
  const response = await request(`http://${formatHostPort(mesh.workload('frontend').admin)}/clusters`);
  const { clusters } = (await response.body.json()) as { clusters: { name: string; ejectionsTotal: number }[] };
  return clusters.filter((cluster) => cluster.name.endsWith('orders.default.svc.cluster.local')).reduce((sum, cluster) => sum + cluster.ejectionsTotal, 0);
}

function canaryLines(perWorkload: Map<string, ServiceStats>, ejected: number, elapsedSeconds: number): string {
  const share = canaryShare(perWorkload);
  const rows = ORDERS.map((name) => perWorkload.get(name)).filter((row) => row !== undefined);
  return [
    `orders replicas (canary v2 at ${CANARY_WEIGHT}%: measured ${share ?? '-'}%; orders-v1b fails at random, retries hide it and outlier detection ejected it ${ejected} times):`,
    formatTable(rows, elapsedSeconds),
  ].join('\n');
}

function securityLines(security: SecuritySummary & { mtls: string }): string {
  const identities = Object.entries(security.identities).map(([name, id]) => `  ${name.padEnd(10)} ${id ?? '(none)'}`);
  return `mTLS ${security.mtls} between sidecars; plaintext to a sidecar ${security.plaintextRefused ? 'refused' : 'ACCEPTED'}\nidentities:\n${identities.join('\n')}`;
}

/** Resolves on SIGINT/SIGTERM (from creation on), or `seconds` after `arm` is called. */
function stopSignal(): { promise: Promise<void>; arm: (seconds: number | undefined) => void; cancel: () => void } {
  let finish: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => (finish = resolve));
  process.once('SIGINT', finish);
  process.once('SIGTERM', finish);
  return {
    promise,
    arm: (seconds) => {
      if (seconds !== undefined) timer = setTimeout(finish, seconds * 1000);
    },
    cancel: () => {
      clearTimeout(timer);
      process.off('SIGINT', finish);
      process.off('SIGTERM', finish);
    },
  };
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const { stdout, stderr } = options;
  const say = (line: string): boolean => stderr.write(`${line}\n`);
  const dir = await mkdtemp(join(tmpdir(), 'weft-demo-'));
  const mesh = new LoopbackMesh({ dir });
  const stop = stopSignal();
  let driver: TrafficDriver | undefined;
  try {
    say('weft demo: starting the control plane (with a CA), 4 apps and 5 sidecars (STRICT mTLS) on 127.0.0.1 ...');
    await mesh.startControlPlane();
    for (const spec of WORKLOADS) await mesh.addWorkload(spec);
    await mesh.writeMeshFile(mesh.documents(ROUTING));
    say(`weft demo: mesh file ${mesh.meshFile}; control plane debug at http://${formatHostPort(mesh.debug ?? { host: '127.0.0.1', port: 0 })}/debug/syncz`);

    const entry = mesh.workload('loadgen').outbound;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const response = await request(`http://${formatHostPort(entry)}/`, { headers: { host: 'frontend:8080' } }).catch(() => undefined);
      const status = response?.statusCode;
      await response?.body.dump();
      if (status === 200) break;
      if (Date.now() > deadline) throw new Error(`the mesh did not come up within 20 s (last status ${status ?? 'none'})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    driver = new TrafficDriver({ via: entry, host: 'frontend:8080', ratePerSecond: options.ratePerSecond });
    const startedAt = Date.now();
    driver.start();
    stop.arm(options.durationSeconds);
    say(`weft demo: sending ${options.ratePerSecond} req/s to frontend ${options.durationSeconds === undefined ? 'until Ctrl-C' : `for ${options.durationSeconds} s`}`);
    const live = !options.json && stdout.isTTY === true;
    const refresh = setInterval(() => {
      if (!live) return;
      void Promise.all([collect(mesh), ejections(mesh)]).then(
        ([{ services, perWorkload }, ejected]) => {
          const elapsed = (Date.now() - startedAt) / 1000;
          stdout.write(`\x1b[2J\x1b[H${formatTable(services, elapsed)}\n\n${canaryLines(perWorkload, ejected, elapsed)}\n(${elapsed.toFixed(0)} s; Ctrl-C stops)\n`);
        },
        () => undefined,
      );
    }, 1000);
    await stop.promise;
    clearInterval(refresh);
    await driver.stop();
    driver = undefined;
    const elapsed = (Date.now() - startedAt) / 1000;
    const { services, perWorkload } = await collect(mesh);
    const ejected = await ejections(mesh);
    const security = { mtls: 'STRICT', ...(await checkSecurity([...mesh.workloads.values()].map((workload) => ({ name: workload.spec.name, admin: workload.admin, inbound: workload.inbound })))) };
    if (options.json) {
      const workloads = ORDERS.map((name) => perWorkload.get(name)).filter((row) => row !== undefined);
      const canary = { weightPercent: CANARY_WEIGHT, measuredPercent: canaryShare(perWorkload) };
      stdout.write(`${JSON.stringify({ durationSeconds: Math.round(elapsed * 10) / 10, services, workloads, canary, ejections: ejected, security })}\n`);
    } else {
      stdout.write(`${live ? '\x1b[2J\x1b[H' : ''}weft demo summary (${elapsed.toFixed(1)} s, sidecar inbound metrics)\n${formatTable(services, elapsed)}\n\n${canaryLines(perWorkload, ejected, elapsed)}\n\n${securityLines(security)}\n`);
    }
    return services.every((service) => service.successes > 0) ? 0 : 1;
  } finally {
    stop.cancel();
    await driver?.stop();
    await mesh.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
