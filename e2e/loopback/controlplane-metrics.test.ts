// The control plane process's /metrics (debug port) with real sidecars holding certificates:
// the program wires its registry, ADS server and certificate service into one scrape, and the
// scrape names no proxy and carries no token.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { LoopbackMesh } from '@weft/cli';
import { resourceKindsInPushOrder } from '@weft/proto';
import type { HostPort } from '@weft/runtime';
import { httpGet, pollUntil, startFrontendAndOrders, temporaryDirectory } from './helpers.ts';

describe('control plane metrics with real sidecars', () => {
  let mesh: LoopbackMesh;
  let removeDir: () => Promise<void>;

  before(async () => {
    const dir = await temporaryDirectory('cp-metrics');
    removeDir = dir.remove;
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    await startFrontendAndOrders(mesh);
  });

  after(async () => {
    await mesh?.stop();
    await removeDir?.();
  });

  const scrape = async (): Promise<string> => (await httpGet(mesh.debug as HostPort, '/metrics')).text;

  it('counts the sidecars, their certificates, the pushes and the ACKs of a change; no token or proxy name appears', async () => {
    const clusterAcks = (text: string): number => Number(/^weft_controlplane_xds_push_latency_seconds_count\{type="cluster"\} (\d+)$/m.exec(text)?.[1]);
    const acksBefore = clusterAcks(await scrape());
    // The orders clusters get another load balancer: a change for the one sidecar that calls orders
    // (on-demand discovery; orders-1's own sidecar never asked for them).
    await mesh.writeMeshFile(
      mesh.documents([{ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'DestinationPolicy', metadata: { name: 'orders', namespace: 'default' }, spec: { host: 'orders', trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } } }]),
    );
    const text = await pollUntil('the frontend sidecar ACKed the new clusters', 15_000, async () => {
      const candidate = await scrape();
      return clusterAcks(candidate) === acksBefore + 1 ? candidate : undefined;
    });
    assert.match(text, /^weft_controlplane_xds_connected_proxies 2$/m);
    assert.match(text, /^weft_controlplane_ca_certificates_issued_total 2$/m);
    for (const kind of resourceKindsInPushOrder) assert.match(text, new RegExp(`^weft_controlplane_xds_pushes_total\\{type="${kind}"\\} ([2-9]|\\d\\d+)$`, 'm'));
    assert.match(text, /^weft_controlplane_registry_rebuilds_total\{registry="file"\} [3-9]$/m, 'the empty mesh, the workloads, the policy');
    assert.match(text, /^weft_controlplane_xds_snapshot_bytes_count [1-9]/m);

    const identity = mesh.identity as NonNullable<LoopbackMesh['identity']>;
    const tokens = await Promise.all(['frontend', 'orders'].map(async (account) => (await readFile(await identity.tokenFile('default', account), 'utf8')).trim()));
    for (const secret of [...tokens, 'frontend', 'orders-1']) assert.equal(text.includes(secret), false, `${secret} in the scrape`);
  });
});
