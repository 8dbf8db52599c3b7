// On-demand discovery with real processes: a sidecar holds the configuration of the services
// its workload calls and nothing else; the first request to a service waits for the control
// plane's answer; a name that does not exist is answered (404 NR at once, not a timeout), and
// stays subscribed, so the service works as soon as it is added to the mesh.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LoopbackMesh } from '@weft/cli';
import { RESPONSE_FLAGS_HEADER } from '@weft/proxy';
import { httpGet, httpRequest, pollUntil, temporaryDirectory } from './helpers.ts';

interface ConfigDump {
  configs: Record<'route' | 'cluster' | 'endpoints', { resources: Record<string, unknown> }>;
}

describe('on-demand discovery', () => {
  let mesh: LoopbackMesh;
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => {
    dir = await temporaryDirectory('on-demand');
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'client', app: false });
    for (const service of ['alpha', 'beta', 'gamma']) await mesh.addWorkload({ name: `${service}-1`, service });
    await mesh.writeMeshFile(mesh.documents());
    for (const name of ['alpha-1', 'beta-1', 'gamma-1']) await mesh.sidecarServing(name);
    await pollUntil('the client sidecar to be ready', 15_000, async () => ((await httpGet(mesh.workload('client').admin, '/ready')).status === 200 ? true : undefined));
  });

  after(async () => {
    await mesh?.stop();
    await dir?.remove();
  });

  const held = async (): Promise<Record<'route' | 'cluster' | 'endpoints', string[]>> => {
    const dump = JSON.parse((await httpGet(mesh.workload('client').admin, '/config_dump')).text) as ConfigDump;
    return { route: Object.keys(dump.configs.route.resources), cluster: Object.keys(dump.configs.cluster.resources), endpoints: Object.keys(dump.configs.endpoints.resources) };
  };

  it('holds nothing of other services until its workload calls one, then only that one', async () => {
    assert.deepEqual(await held(), { route: [], cluster: [], endpoints: [] });
    const client = mesh.workload('client');
    // The very first request is the one that asks: it waits for the answer and is routed.
    assert.equal((await httpRequest(client.outbound, 'GET', '/', { host: 'alpha:8080' })).status, 200);
    const config = await held();
    assert.deepEqual(config.route, ['alpha.default.svc.cluster.local:8080']);
    assert.ok(config.cluster.length > 0 && config.cluster.every((name) => name.includes('alpha.default')), JSON.stringify(config));
    assert.deepEqual(config.endpoints, config.cluster);
    // Another name of the same service reuses what is held.
    assert.equal((await httpRequest(client.outbound, 'GET', '/', { host: 'alpha.default.svc.cluster.local:8080' })).status, 200);
    assert.deepEqual((await held()).route, ['alpha.default.svc.cluster.local:8080']);
  });

  it('answers a service that does not exist with 404 NR, and routes to it once it is added', async () => {
    const client = mesh.workload('client');
    const missing = await httpRequest(client.outbound, 'GET', '/', { host: 'delta:8080' });
    // 503 NCFG would mean the control plane never answered; NR means it said "no such service".
    assert.equal(missing.status, 404, missing.text);
    assert.equal(missing.headers[RESPONSE_FLAGS_HEADER], 'NR');
    await mesh.addWorkload({ name: 'delta-1', service: 'delta' });
    await mesh.writeMeshFile(mesh.documents());
    await mesh.sidecarServing('delta-1');
    await pollUntil('delta to be routed', 15_000, async () => ((await httpRequest(client.outbound, 'GET', '/', { host: 'delta:8080' })).status === 200 ? true : undefined));
    const routes = (await held()).route;
    assert.ok(!routes.some((name) => name.startsWith('beta') || name.startsWith('gamma')), `never called: ${routes.join()}`);
  });
});
