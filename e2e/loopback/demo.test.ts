// `npm start` is `weft demo`: the README's quickstart must work, report traffic for every demo
// service, and leave no process behind — also when stopped with SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pollUntil } from './helpers.ts';

const CLI = join(dirname(fileURLToPath(import.meta.resolve('@weft/cli'))), 'main.ts');

/** Processes still alive whose environment carries `marker` (children inherit it). */
async function processesMarked(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environment = await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '');
    if (environment.includes(`WEFT_TEST_MARKER=${marker}`)) pids.push(Number(entry));
  }
  return pids;
}

function runDemo(args: string[], marker: string) {
  const child = spawn(process.execPath, [CLI, 'demo', ...args], { env: { ...process.env, WEFT_TEST_MARKER: marker }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

describe('weft demo', () => {
  it('--duration 10 --json exits 0 with successful traffic for every service over STRICT mTLS, and no orphans', async () => {
    const marker = randomUUID();
    const demo = runDemo(['--duration', '10', '--json'], marker);
    const code = await demo.exited;
    const { stdout, stderr } = demo.output();
    assert.equal(code, 0, stderr);
    const summary = JSON.parse(stdout) as {
      services: { name: string; requests: number; successes: number; p50Ms: number; p99Ms: number }[];
      workloads: { name: string; requests: number; successes: number }[];
      canary: { weightPercent: number; measuredPercent: number };
      ejections: number;
      security: { mtls: string; plaintextRefused: boolean; identities: Record<string, string> };
    };
    // The flaky replica fails, the frontend does not see it: retries, and ejections.
    const flaky = summary.workloads.find((workload) => workload.name === 'orders-v1b');
    assert.ok(flaky && flaky.successes < flaky.requests, `orders-v1b: ${JSON.stringify(flaky)}`);
    const frontend = summary.services.find((service) => service.name === 'frontend');
    assert.ok(frontend && frontend.successes >= frontend.requests * 0.99, `frontend: ${JSON.stringify(frontend)}`);
    assert.ok(summary.ejections >= 1, `ejections: ${summary.ejections}`);
    assert.equal(summary.canary.weightPercent, 10);
    assert.ok(summary.canary.measuredPercent > 3 && summary.canary.measuredPercent < 20, `canary share ${summary.canary.measuredPercent}%`);
    assert.equal(summary.security.mtls, 'STRICT');
    assert.equal(summary.security.plaintextRefused, true);
    assert.deepEqual(summary.security.identities, {
      inventory: 'spiffe://cluster.local/ns/default/sa/inventory',
      'orders-v1a': 'spiffe://cluster.local/ns/default/sa/orders',
      'orders-v1b': 'spiffe://cluster.local/ns/default/sa/orders',
      'orders-v2': 'spiffe://cluster.local/ns/default/sa/orders',
      frontend: 'spiffe://cluster.local/ns/default/sa/frontend',
      loadgen: 'spiffe://cluster.local/ns/default/sa/loadgen',
    });
    assert.deepEqual(summary.services.map((service) => service.name), ['frontend', 'orders', 'inventory']);
    for (const service of summary.services) {
      assert.ok(service.successes > 100, `${service.name}: ${JSON.stringify(service)}`);
      assert.ok(service.p50Ms > 0 && service.p99Ms >= service.p50Ms, `${service.name}: ${JSON.stringify(service)}`);
    }
    assert.deepEqual(await processesMarked(marker), []);
  });

  it('stops every child process on SIGTERM', async () => {
    const marker = randomUUID();
    const demo = runDemo([], marker);
    await pollUntil('traffic to start', 30_000, () => (demo.output().stderr.includes('sending') ? true : undefined));
    assert.ok((await processesMarked(marker)).length >= 13, 'demo, control plane, 6 sidecars and 5 apps are running');
    demo.child.kill('SIGTERM');
    assert.equal(await demo.exited, 0, demo.output().stderr);
    assert.match(demo.output().stdout, /weft demo summary/);
    assert.deepEqual(await processesMarked(marker), []);
  });
});
