// The sidecar as shipped: the one-file bundle (packages/proxy/scripts/bundle.ts, built by npm ci,
// npm test and npm run bench) carries a STRICT mTLS mesh like the sources do. Its sidecars run
// with type stripping off, so a TypeScript module it failed to include would stop them.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { LoopbackMesh, PROGRAMS } from '@weft/cli';
import { answeredBy, httpGet, httpRequest, pollUntil, temporaryDirectory } from './helpers.ts';

describe('the bundled sidecar', () => {
  let mesh: LoopbackMesh;
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => {
    assert.ok(existsSync(PROGRAMS.proxyBundle), `${PROGRAMS.proxyBundle} is missing: npm run bundle`);
    dir = await temporaryDirectory('bundle');
    mesh = new LoopbackMesh({ dir: dir.path, mtls: 'STRICT', proxyProgram: PROGRAMS.proxyBundle, proxyNodeOptions: '--no-experimental-strip-types' });
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'client', app: false });
    await mesh.addWorkload({ name: 'orders-1', service: 'orders' });
    await mesh.writeMeshFile(mesh.documents());
    await mesh.sidecarServing('orders-1');
    await pollUntil('the client sidecar to be ready', 15_000, async () => ((await httpGet(mesh.workload('client').admin, '/ready')).status === 200 ? true : undefined));
  });

  after(async () => {
    await mesh?.stop();
    await dir?.remove();
  });

  it('gets a certificate and configuration, and carries requests over mTLS to the app', async () => {
    const client = mesh.workload('client');
    for (let index = 0; index < 20; index++) {
      const result = await httpRequest(client.outbound, 'GET', '/', { host: 'orders:8080' });
      assert.equal(result.status, 200, result.text);
      assert.equal(answeredBy(result, false), 'orders-1');
    }
    const stats = await httpGet(mesh.workload('orders-1').stats, '/stats/prometheus');
    assert.match(stats.text, /source_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/client"/);
  });
});
