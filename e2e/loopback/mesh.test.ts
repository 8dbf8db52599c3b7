// Component test: control plane, two sidecars and two apps, each its own process, on loopback.
// A request enters the frontend app, leaves through the frontend's sidecar, enters the orders
// sidecar and reaches the orders app.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LoopbackMesh, type MeshDocument } from '@weft/cli';
import { RESPONSE_FLAGS_HEADER } from '@weft/proxy';
import { answeredBy, httpGet, pollUntil, temporaryDirectory } from './helpers.ts';

describe('loopback mesh: control plane, two sidecars, two apps', () => {
  let mesh: LoopbackMesh;
  let removeDir: () => Promise<void>;

  before(async () => {
    const dir = await temporaryDirectory('mesh');
    removeDir = dir.remove;
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'frontend', service: 'frontend', calls: ['orders:8080'] });
    await mesh.addWorkload({ name: 'orders-1', service: 'orders', version: 'v1' });
    await mesh.writeMeshFile(mesh.documents());
  });

  after(async () => {
    await mesh?.stop();
    await removeDir?.();
  });

  const frontend = () => mesh.workload('frontend').appAddress as NonNullable<ReturnType<LoopbackMesh['workload']>['appAddress']>;

  it('carries a request through both sidecars to the upstream app', async () => {
    const result = await pollUntil('a routed request', 10_000, async () => {
      const response = await httpGet(frontend(), '/checkout');
      return response.status === 200 ? response : undefined;
    });
    assert.equal(answeredBy(result), 'orders-1');
    const [upstream] = (JSON.parse(result.text) as { upstream: { host: string; status: number }[] }).upstream;
    assert.deepEqual(upstream && [upstream.host, upstream.status], ['orders:8080', 200]);
    // The orders sidecar saw it inbound: its metrics count the request.
    const stats = await httpGet(mesh.workload('orders-1').stats, '/stats/prometheus');
    assert.match(stats.text, /weft_requests_total\{direction="inbound",source_workload="frontend",source_namespace="default",destination_service="orders\.default\.svc\.cluster\.local",destination_workload="orders-1",destination_namespace="default",.*response_code="200",grpc_status="",response_flags="-"\} [1-9]/);
  });

  it('sends traffic to an endpoint added to the mesh file within 2 s', async () => {
    // As in Kubernetes, the new workload is listed first as not ready, and marked ready once
    // its sidecar holds its configuration (the kubelet's readiness probe, done by hand).
    await mesh.addWorkload({ name: 'orders-2', service: 'orders', version: 'v2' }, { ready: false });
    await mesh.writeMeshFile(mesh.documents());
    await mesh.sidecarServing('orders-2');
    mesh.setReady('orders-2');
    const writtenAt = Date.now();
    await mesh.writeMeshFile(mesh.documents());
    await pollUntil('a response from orders-2', 2000, async () => {
      const response = await httpGet(frontend());
      assert.equal(response.status, 200, response.text);
      return answeredBy(response) === 'orders-2' ? true : undefined;
    }, 5);
    assert.ok(Date.now() - writtenAt < 2000);
  });

  it('refuses a broken edit naming the field, and keeps routing on the last good config', async () => {
    const brokenRoute: MeshDocument = {
      apiVersion: 'mesh.weft.dev/v1alpha1',
      kind: 'TrafficRoute',
      metadata: { name: 'orders' },
      spec: { hosts: ['orders'], http: [{ route: [{ destination: { host: 'orders' }, weight: 70 }, { destination: { host: 'orders' }, weight: 20 }] }] },
    };
    const controlPlane = mesh.controlPlane;
    assert.ok(controlPlane);
    await mesh.writeMeshFile(mesh.documents([brokenRoute]));
    const refusal = await controlPlane.waitForLog((record) => record.msg === 'mesh file change refused; keeping the last good configuration');
    assert.match(String((refusal.problems as string[])[0]), /mesh\.yaml:\d+:\d+: document 5 \(TrafficRoute default\/orders\): spec\.http\[0\]\.route: weights must sum to 100, got 90/);

    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const response = await httpGet(frontend());
      assert.equal(response.status, 200, response.text);
      seen.add(answeredBy(response) ?? '');
    }
    assert.deepEqual([...seen].sort(), ['orders-1', 'orders-2']);
  });

  it('answers an unknown service with 404 and a response flag, naming what is missing', async () => {
    const response = await httpGet(mesh.workload('frontend').outbound, '/', { host: 'payments:8080' });
    assert.equal(response.status, 404);
    assert.equal(response.headers[RESPONSE_FLAGS_HEADER], 'NR');
    assert.match(response.text, /no service payments on port 8080/);
  });
});
