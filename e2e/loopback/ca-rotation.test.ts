// CA rotation without a failed request: trust a second root beside the first, switch the
// signing CA to it (workloads re-issue as they renew), then stop trusting the first.
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createRootCa, loadCa } from '@weft/ca';
import { LoopbackMesh } from '@weft/cli';
import { httpGet, pollUntil, startFrontendAndOrders, SteadyTraffic, temporaryDirectory } from './helpers.ts';
import { certificateStatus, tlsRequest } from './identity-helpers.ts';

const WORKLOADS = ['frontend', 'orders-1'];

async function rootsHeldBy(mesh: LoopbackMesh, workload: string): Promise<number> {
  const dump = JSON.parse((await httpGet(mesh.workload(workload).admin, '/config_dump')).text) as { configs: { trustBundle: { resources: Record<string, { config: { rootsPem: string[] } }> } } };
  return Object.values(dump.configs.trustBundle.resources).reduce((sum, bundle) => sum + bundle.config.rootsPem.length, 0);
}

describe('CA rotation', () => {
  it('adds a root, re-issues under it and removes the old root with no failed request', async () => {
    const dir = await temporaryDirectory('ca-rotation');
    const next = await temporaryDirectory('ca-next');
    // Lifetimes of 10 s: renewals happen within the test, with room for control plane restarts.
    const mesh = new LoopbackMesh({ dir: dir.path, certTtl: '10s' });
    let traffic: SteadyTraffic | undefined;
    try {
      await mesh.startControlPlane();
      traffic = new SteadyTraffic(await startFrontendAndOrders(mesh));

      const caDir = (mesh.identity as NonNullable<LoopbackMesh['identity']>).caDir;
      const oldRoot = await readFile(join(caDir, 'root-cert.pem'), 'utf8');
      await createRootCa(next.path);
      const newRoot = await readFile(join(next.path, 'root-cert.pem'), 'utf8');
      const restart = async (): Promise<void> => {
        await mesh.controlPlane?.stop();
        await mesh.startControlPlane();
      };

      // 1. Trust both roots; the old CA still signs.
      await writeFile(join(caDir, 'root-cert.pem'), `${oldRoot}${newRoot}`);
      await restart();
      for (const name of WORKLOADS) await pollUntil(`${name} to trust two roots`, 15_000, async () => ((await rootsHeldBy(mesh, name)) === 2 ? true : undefined));

      // 2. The new CA signs; both roots are still trusted while workloads renew.
      for (const file of ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem']) await copyFile(join(next.path, file), join(caDir, file));
      await writeFile(join(caDir, 'root-cert.pem'), `${newRoot}${oldRoot}`);
      await restart();
      const witness = await (await loadCa(next.path)).issue({ namespace: 'default', serviceAccount: 'witness' });
      for (const name of WORKLOADS) {
        await pollUntil(`${name} to present a certificate from the new CA`, 20_000, async () => {
          const exchange = await tlsRequest(mesh.workload(name).inbound, witness, '/', newRoot);
          return exchange.peer !== undefined && exchange.error === undefined ? true : undefined;
        });
      }

      // 3. Only the new root is trusted.
      await writeFile(join(caDir, 'root-cert.pem'), newRoot);
      await restart();
      for (const name of WORKLOADS) await pollUntil(`${name} to trust only the new root`, 15_000, async () => ((await rootsHeldBy(mesh, name)) === 1 ? true : undefined));
      const before = traffic.ok;
      await pollUntil('traffic after the rotation', 10_000, () => ((traffic?.ok ?? 0) >= before + 100 ? true : undefined), 20);
      await traffic.stop();
    } finally {
      await traffic?.stop();
      await mesh.stop();
      await dir.remove();
      await next.remove();
    }
    assert.deepEqual(traffic.failures, []);
    assert.ok(traffic.ok > 200, `${traffic.ok} requests`);
  });
});

describe('the CA unreachable past half-life', () => {
  it('the proxy keeps its valid certificate, retries, and renews once the CA is back; no request fails', async () => {
    const dir = await temporaryDirectory('ca-down');
    const mesh = new LoopbackMesh({ dir: dir.path, certTtl: '12s' });
    let traffic: SteadyTraffic | undefined;
    try {
      await mesh.startControlPlane();
      traffic = new SteadyTraffic(await startFrontendAndOrders(mesh));
      const before = await certificateStatus(mesh, 'frontend');
      await mesh.controlPlane?.kill();
      const during = await pollUntil('renewal attempts to fail while the CA is down', 15_000, async () => {
        const status = await certificateStatus(mesh, 'frontend');
        return status.failures >= 2 ? status : undefined;
      });
      assert.equal(during.issued, before.issued, 'still the certificate it had');
      assert.equal(during.notAfter, before.notAfter);
      assert.ok(Date.parse(during.notAfter) > Date.now(), 'which is still valid');
      await mesh.startControlPlane();
      await pollUntil('a renewal once the CA is back', 15_000, async () => ((await certificateStatus(mesh, 'frontend')).issued > before.issued ? true : undefined));
      await traffic.stop();
    } finally {
      await traffic?.stop();
      await mesh.stop();
      await dir.remove();
    }
    assert.deepEqual(traffic.failures, []);
  });
});
