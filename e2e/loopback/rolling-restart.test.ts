// Rolling restarts under steady load, with mTLS between sidecars: every upstream replica is
// replaced one by one — whole pods (application and sidecar), then only the sidecars — while a
// client sidecar carries a fixed request rate. No request may fail. Each replacement mirrors
// what a kubelet and the control plane do: the old endpoint is marked not ready, the old
// processes get SIGTERM, a new one starts not ready and is marked ready once its sidecar holds
// its configuration.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LoopbackMesh } from '@weft/cli';
import type { HostPort } from '@weft/runtime';
import { httpGet, pollUntil, SteadyTraffic, temporaryDirectory } from './helpers.ts';

const REPLICAS = 3;
const REQUESTS_PER_SECOND = 100;
const ORDERS = 'outbound|8080||orders.default.svc.cluster.local';

/** Whether the client sidecar holds `workload`'s endpoint with readiness `ready` (undefined: not at all). */
async function clientSees(mesh: LoopbackMesh, workload: string, ready: boolean | undefined): Promise<true | undefined> {
  const dump = JSON.parse((await httpGet(mesh.workload('client').admin, '/config_dump')).text) as { configs: { endpoints: { resources: Record<string, { config: { endpoints: { workload: string; ready: boolean }[] } }> } } };
  const endpoint = dump.configs.endpoints.resources[ORDERS]?.config.endpoints.find((candidate) => candidate.workload === `${workload}.default`);
  return endpoint?.ready === ready ? true : undefined;
}

/** A new replica: started not ready, marked ready once its sidecar can serve, and waited for until it answers. */
async function addReplica(mesh: LoopbackMesh, traffic: SteadyTraffic, name: string): Promise<void> {
  await mesh.addWorkload({ name, service: 'orders' }, { ready: false });
  await mesh.writeMeshFile(mesh.documents());
  await mesh.sidecarServing(name);
  mesh.setReady(name);
  await mesh.writeMeshFile(mesh.documents());
  await pollUntil(`traffic to ${name}`, 20_000, () => (traffic.answeredBy.has(name) ? true : undefined), 20);
}

function report(what: string, traffic: SteadyTraffic): void {
  process.stdout.write(`# ${what}: ${traffic.sent} requests sent, ${traffic.ok} succeeded, ${traffic.failures.length} failed\n`);
}

describe('rolling restart of every upstream replica under steady load', () => {
  let mesh: LoopbackMesh;
  let removeDir: () => Promise<void>;
  let client: HostPort;

  before(async () => {
    const dir = await temporaryDirectory('rolling');
    removeDir = dir.remove;
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    client = (await mesh.addWorkload({ name: 'client', app: false })).outbound;
    for (let replica = 1; replica <= REPLICAS; replica++) await mesh.addWorkload({ name: `orders-${replica}`, service: 'orders' });
    await mesh.writeMeshFile(mesh.documents());
    await pollUntil('client -> orders', 20_000, async () => ((await httpGet(client, '/', { host: 'orders:8080' })).status === 200 ? true : undefined));
  });

  after(async () => {
    await mesh?.stop();
    await removeDir?.();
  });

  const load = (): SteadyTraffic => new SteadyTraffic(client, { perSecond: REQUESTS_PER_SECOND, headers: { host: 'orders:8080' }, upstream: false });

  it('replaces whole pods (application and sidecar) one by one with zero failed requests', { timeout: 60_000 }, async () => {
    const traffic = load();
    for (let replica = 1; replica <= REPLICAS; replica++) {
      const old = `orders-${replica}`;
      // The endpoint leaves rotation (EndpointSlice not ready / terminating) before the pod dies.
      mesh.setReady(old, false);
      await mesh.writeMeshFile(mesh.documents());
      await pollUntil(`${old} out of rotation at the client`, 15_000, () => clientSees(mesh, old, false), 20);
      await mesh.removeWorkload(old);
      await mesh.writeMeshFile(mesh.documents());
      await addReplica(mesh, traffic, `orders-new-${replica}`);
    }
    await traffic.stop();
    report('whole pods', traffic);
    assert.deepEqual(traffic.failures, []);
    assert.equal(traffic.ok, traffic.sent);
    for (let replica = 1; replica <= REPLICAS; replica++) assert.ok(traffic.answeredBy.has(`orders-new-${replica}`));
  });

  it('replaces only the sidecars (applications keep running) one by one with zero failed requests', { timeout: 60_000 }, async () => {
    const traffic = load();
    for (let replica = 1; replica <= REPLICAS; replica++) {
      const name = `orders-new-${replica}`;
      const old = mesh.workload(name).sidecar;
      // SIGTERM at once, without waiting for the client to learn: the drain (GOAWAY, refused
      // connections) and the client's resending of what was never processed carry the requests.
      mesh.setReady(name, false);
      await mesh.writeMeshFile(mesh.documents());
      await old.stop(30_000);
      const drained = await old.waitForLog((record) => record.msg === 'drained');
      assert.equal(drained.outcome, 'idle');
      await mesh.replaceSidecar(name);
      await mesh.writeMeshFile(mesh.documents());
      await mesh.sidecarServing(name);
      mesh.setReady(name);
      await mesh.writeMeshFile(mesh.documents());
      await pollUntil(`${name}'s new sidecar at the client`, 20_000, () => clientSees(mesh, name, true), 20);
    }
    const served = traffic.ok;
    await pollUntil('requests served through the new sidecars', 10_000, () => (traffic.ok >= served + REQUESTS_PER_SECOND ? true : undefined), 20);
    await traffic.stop();
    report('sidecars only', traffic);
    assert.deepEqual(traffic.failures, []);
    assert.equal(traffic.ok, traffic.sent);
  });
});
