// The control plane dies mid-traffic: proxies keep serving with the configuration they have;
// when it comes back, they reconnect and receive what changed while it was gone. And a proxy
// that never had configuration answers 503 with a reason, at once, instead of hanging.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EPHEMERAL_PROXY_LISTENERS, LoopbackMesh, ManagedProcess, PROGRAMS } from '@weft/cli';
import { RESPONSE_FLAGS_HEADER } from '@weft/proxy';
import { httpGet, pollUntil, startFrontendAndOrders, SteadyTraffic, temporaryDirectory } from './helpers.ts';

describe('control plane restart under traffic', () => {
  let mesh: LoopbackMesh;
  let removeDir: () => Promise<void>;

  before(async () => {
    const dir = await temporaryDirectory('restart');
    removeDir = dir.remove;
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    await startFrontendAndOrders(mesh);
  });

  after(async () => {
    await mesh?.stop();
    await removeDir?.();
  });

  it('keeps requests succeeding while it is down, and delivers changes made meanwhile', async () => {
    const frontend = mesh.workload('frontend').appAddress;
    assert.ok(frontend);
    const traffic = new SteadyTraffic(frontend);

    await mesh.controlPlane?.kill();
    const whileDown = traffic.ok;
    await pollUntil('200 requests served without a control plane', 10_000, () => (traffic.ok >= whileDown + 200 ? true : undefined), 10);

    // A change made while the control plane is down: a second orders endpoint, its pod
    // started but not ready (its sidecar cannot get configuration yet).
    await mesh.addWorkload({ name: 'orders-2', service: 'orders' }, { ready: false });
    await mesh.writeMeshFile(mesh.documents());
    await mesh.startControlPlane();
    const frontendAdmin = mesh.workload('frontend').admin;
    await pollUntil('the frontend sidecar to receive the change made meanwhile', 15_000, async () => {
      const dump = JSON.parse((await httpGet(frontendAdmin, '/config_dump')).text) as { configs: { endpoints: { resources: Record<string, { config: { endpoints: { workload: string }[] } }> } } };
      const endpoints = dump.configs.endpoints.resources['outbound|8080||orders.default.svc.cluster.local']?.config.endpoints ?? [];
      return endpoints.some((endpoint) => endpoint.workload === 'orders-2.default') ? true : undefined;
    });
    await mesh.sidecarServing('orders-2');
    mesh.setReady('orders-2');
    await mesh.writeMeshFile(mesh.documents());
    await pollUntil('traffic to orders-2', 5000, () => (traffic.answeredBy.has('orders-2') ? true : undefined), 20);

    await traffic.stop();
    assert.deepEqual(traffic.failures, []);
    assert.ok(traffic.ok > 200);
    const reconnect = await mesh.workload('frontend').sidecar.waitForLog((record) => record.msg === 'reconnecting to control plane');
    assert.equal(typeof reconnect.delayMs, 'number');
  });
});

describe('a proxy without configuration', () => {
  let proxy: ManagedProcess;

  before(() => {
    // Port 9 (discard) on loopback: nothing listens, so no configuration ever arrives.
    proxy = new ManagedProcess('proxy', PROGRAMS.proxy, ['--xds-address', '127.0.0.1:9', '--workload', 'lonely', ...EPHEMERAL_PROXY_LISTENERS]);
  });

  after(() => proxy?.stop());

  it('answers 503 with the reason on both listeners, and is not ready on the admin and health ports', async () => {
    for (const listener of ['outbound', 'inbound']) {
      const response = await httpGet(await proxy.listening(listener), '/', { host: 'orders:8080' });
      assert.equal(response.status, 503, listener);
      assert.equal(response.headers[RESPONSE_FLAGS_HEADER], 'NCFG');
      assert.match(response.text, /no configuration received from the control plane yet/);
    }
    const ready = await httpGet(await proxy.listening('admin'), '/ready');
    assert.equal(ready.status, 503);
    const health = await httpGet(await proxy.listening('health'), '/healthz/ready');
    assert.equal(health.status, 503);
    assert.deepEqual(JSON.parse(health.text), { ready: false, reason: 'waiting for configuration' });
  });
});
