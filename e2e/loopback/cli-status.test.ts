// `weft check`, `weft proxy-status` and `weft proxy-config` run as real processes against real
// meshes: a healthy one (control plane with a CA, sidecars with certificates), the same with its
// control plane stopped, and one where a proxy NACKs what the control plane sent it.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EPHEMERAL_PROXY_LISTENERS, LoopbackMesh, ManagedProcess, PROGRAMS, toMeshFile } from '@weft/cli';
import { ControlPlane, FileRegistry, ResourceSetBuilder, type ProxyStatus } from '@weft/controlplane';
import { ResourceType, weft } from '@weft/proto';
import { createLogger, formatHostPort, type HostPort } from '@weft/runtime';
import { httpGet, pollUntil, rowOf, startFrontendAndOrders, temporaryDirectory, weftCli } from './helpers.ts';

async function adminJson(admin: HostPort, path: string): Promise<unknown> {
  return JSON.parse((await httpGet(admin, path)).text) as unknown;
}

describe('weft check, proxy-status and proxy-config on a healthy mesh', () => {
  let mesh: LoopbackMesh;
  let controlPlane: string;
  let remove: () => Promise<void>;

  before(async () => {
    const dir = await temporaryDirectory('cli-status');
    remove = dir.remove;
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    await startFrontendAndOrders(mesh);
    controlPlane = `http://${formatHostPort(mesh.debug as HostPort)}`;
  });

  after(async () => {
    await mesh?.stop();
    await remove?.();
  });

  it('weft check passes every check (exit 0)', async () => {
    const result = await weftCli('check', '--controlplane', controlPlane);
    assert.equal(result.code, 0, `${result.stdout}${result.stderr}`);
    const marks = result.stdout.split('\n').filter((line) => /^[✔‼×] /.test(line));
    assert.deepEqual(
      marks.map((line) => line.replace(/ \(.*\)$/, '')),
      [
        '✔ control plane reachable',
        '✔ control plane ready',
        '✔ clock skew with the control plane under 5 s',
        '✔ CA valid and not near expiry',
        '✔ trust bundle consistent',
        '✔ every proxy synced',
        '✔ proxy certificates not near expiry',
        '✔ all checks passed',
      ],
      result.stdout,
    );
  });

  it('weft proxy-status shows every proxy SYNCED for every type, and --json the same', async () => {
    const result = await weftCli('proxy-status', '--controlplane', controlPlane);
    assert.equal(result.code, 0, result.stderr);
    for (const id of ['frontend.default', 'orders-1.default']) assert.deepEqual(rowOf(result.stdout, id)?.slice(1, 7), Array(6).fill('SYNCED'), result.stdout);
    const json = JSON.parse((await weftCli('proxy-status', '--controlplane', controlPlane, '--json')).stdout) as { proxies: { id: string; adminAddress: string; types: Record<string, { state: string }> }[] };
    assert.deepEqual(json.proxies.map((proxy) => proxy.id), ['frontend.default', 'orders-1.default']);
    assert.equal(json.proxies[0]?.adminAddress, formatHostPort(mesh.workload('frontend').admin), 'the proxy reports where its admin endpoint is');
    assert.ok(json.proxies.every((proxy) => Object.values(proxy.types).every((type) => type.state === 'SYNCED')));
  });

  it('weft proxy-config -o json prints exactly what the proxy serves, for each section', async () => {
    const admin = mesh.workload('frontend').admin;
    const dump = (await adminJson(admin, '/config_dump')) as { configs: { route: unknown; cluster: unknown }; certificate: unknown };
    const clusters = await adminJson(admin, '/clusters');
    const printed = async (section: string) => {
      const result = await weftCli('proxy-config', 'frontend.default', section, '-o', 'json', '--controlplane', controlPlane);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as unknown;
    };
    assert.deepEqual(await printed('routes'), dump.configs.route);
    assert.deepEqual(await printed('clusters'), dump.configs.cluster);
    assert.deepEqual(await printed('endpoints'), clusters);
    assert.deepEqual(await printed('secrets'), dump.certificate);
  });

  it('weft proxy-config secrets shows the SPIFFE ID and expiry of the certificate and its root, never a key', async () => {
    const result = await weftCli('proxy-config', 'frontend', 'secrets', '--controlplane', controlPlane);
    assert.equal(result.code, 0, result.stderr);
    const leaf = rowOf(result.stdout, 'default');
    assert.equal(leaf?.[3], 'spiffe://cluster.local/ns/default/sa/frontend', result.stdout);
    assert.ok(Date.parse(leaf?.[6] ?? '') > Date.now(), `not after: ${leaf?.[6]}`);
    assert.match(rowOf(result.stdout, 'ROOTCA')?.[2] ?? '', /CN=Weft root CA/);
    const json = await weftCli('proxy-config', 'frontend', 'secrets', '-o', 'json', '--controlplane', controlPlane);
    for (const text of [result.stdout, json.stdout]) assert.doesNotMatch(text, /PRIVATE KEY/);
    assert.match(json.stdout, /spiffe:\/\/cluster\.local\/ns\/default\/sa\/frontend/);
  });

  it('weft proxy-config tables show routes with weights, and endpoints', async () => {
    const routes = await weftCli('proxy-config', 'frontend', 'routes', '--controlplane', controlPlane);
    assert.deepEqual(rowOf(routes.stdout, 'orders.default.svc.cluster.local:8080')?.slice(2), ['*', 'outbound|8080||orders.default.svc.cluster.local 100%'], routes.stdout);
    const endpoints = await weftCli('proxy-config', 'frontend', 'endpoints', '--controlplane', controlPlane);
    const orders = rowOf(endpoints.stdout, 'outbound|8080||orders.default.svc.cluster.local');
    assert.deepEqual(orders?.slice(2, 5), ['orders-1.default', 'READY', 'HEALTHY'], endpoints.stdout);
  });

  it('weft proxy-config names the connected proxies when asked for one that is not', async () => {
    const result = await weftCli('proxy-config', 'nobody', 'routes', '--controlplane', controlPlane);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no proxy "nobody" is connected to the control plane \(connected: frontend\.default, orders-1\.default\)/);
  });

  it('weft check fails with the control-plane hint once the control plane is stopped (exit 1)', async () => {
    await mesh.controlPlane?.stop();
    const result = await weftCli('check', '--controlplane', controlPlane);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /^× control plane reachable$/m);
    assert.match(result.stdout, /hint: start the control plane, or point --controlplane .*kubectl -n weft-system port-forward deploy\/weft-controlplane 15014/);
  });
});

describe('weft check and proxy-status when a proxy NACKs', () => {
  const REJECTED_CLUSTER = 'outbound|8080||orders.default.svc.cluster.local';
  const log = createLogger('test', 'silent');
  let controlPlane: ControlPlane;
  let debugUrl: string;
  const proxies = new Map<string, ManagedProcess>();
  let remove: () => Promise<void>;

  function workload(name: string, service: string) {
    return {
      apiVersion: 'mesh.weft.dev/v1alpha1',
      kind: 'Workload',
      metadata: { name, namespace: 'default', labels: { app: service } },
      spec: { service, address: '127.0.0.1', ports: [{ name: 'http', port: 8080, targetPort: 18080, protocol: 'HTTP' }], serviceAccount: service },
    };
  }

  const byId = (id: string): ProxyStatus | undefined => controlPlane.ads.status().find((proxy) => proxy.id === id);

  before(async () => {
    const dir = await temporaryDirectory('cli-nack');
    remove = dir.remove;
    const meshFile = join(dir.path, 'mesh.yaml');
    await writeFile(meshFile, toMeshFile([workload('frontend', 'frontend'), workload('orders-1', 'orders')]));
    controlPlane = new ControlPlane({ registry: new FileRegistry({ path: meshFile, log }), log, xdsAddress: { host: '127.0.0.1', port: 0 }, debugAddress: { host: '127.0.0.1', port: 0 } });
    const bound = await controlPlane.start();
    debugUrl = `http://${formatHostPort(bound.debug)}`;
    for (const name of ['frontend', 'orders-1']) {
      proxies.set(name, new ManagedProcess(name, PROGRAMS.proxy, ['--xds-address', formatHostPort(bound.xds as HostPort), '--workload', name, '--discovery', 'all', ...EPHEMERAL_PROXY_LISTENERS]));
    }
    const acked = (proxy: ProxyStatus | undefined) => proxy !== undefined && Object.values(proxy.types).length === 6 && Object.values(proxy.types).every((type) => type.acked !== undefined && type.acked === type.current);
    await pollUntil('both proxies ACK their configuration', 15_000, () => (acked(byId('frontend.default')) && acked(byId('orders-1.default')) ? true : undefined));

    // The frontend is sent a cluster it cannot apply (RING_HASH without a hash key); orders-1 nothing new.
    // Both hold every service (--discovery all): an on-demand proxy would not ask for that cluster.
    const source = controlPlane.ads.source;
    assert.ok(source);
    const rejected = new ResourceSetBuilder(ResourceType.cluster).add(REJECTED_CLUSTER, { name: REJECTED_CLUSTER, service: 'orders.default.svc.cluster.local', port: 8080, lbPolicy: weft.config.v1.LbPolicy.RING_HASH }).build();
    controlPlane.ads.publish({ snapshotFor: (name, namespace) => (name === 'frontend' ? { ...source.snapshotFor(name, namespace), cluster: rejected } : source.snapshotFor(name, namespace)) });
    await pollUntil('the frontend NACKs', 15_000, () => byId('frontend.default')?.types.cluster?.rejection);
  });

  after(async () => {
    await Promise.all([...proxies.values()].map((proxy) => proxy.stop()));
    await controlPlane?.stop();
    await remove?.();
  });

  it('weft check fails, naming the proxy, the type and the reason (exit 1)', async () => {
    const result = await weftCli('check', '--controlplane', debugUrl, '--wait', '0');
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stdout, /^× every proxy synced$/m);
    assert.match(result.stdout, /^ {4}frontend\.default CLUSTERS NACKED version \S+ \(keeps \S+\): .*RING_HASH and a consistent hash key go together$/m);
    assert.match(result.stdout, /hint: a proxy rejected its configuration/);
    assert.doesNotMatch(result.stdout, /orders-1\.default/, 'orders-1 is in sync');
  });

  it('weft proxy-status shows the proxy NACKED with its reason, and the other SYNCED', async () => {
    const result = await weftCli('proxy-status', '--controlplane', debugUrl);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(rowOf(result.stdout, 'frontend.default')?.slice(1, 7), ['NACKED', 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED', 'SYNCED'], result.stdout);
    assert.deepEqual(rowOf(result.stdout, 'orders-1.default')?.slice(1, 7), Array(6).fill('SYNCED'), result.stdout);
    assert.match(result.stdout, /^frontend\.default CLUSTERS NACKED version \S+ \(keeps \S+\): .*RING_HASH and a consistent hash key go together$/m);
  });

  it('weft proxy-config shows the clusters the proxy kept, as it serves them, not what was sent', async () => {
    const admin = await (proxies.get('frontend') as ManagedProcess).listening('admin');
    const dump = (await adminJson(admin, '/config_dump')) as { configs: { cluster: { resources: Record<string, { config: { lbPolicy: string } }> } } };
    const result = await weftCli('proxy-config', 'frontend', 'clusters', '-o', 'json', '--controlplane', debugUrl);
    assert.deepEqual(JSON.parse(result.stdout), dump.configs.cluster);
    assert.equal(dump.configs.cluster.resources[REJECTED_CLUSTER]?.config.lbPolicy, 'ROUND_ROBIN');
  });

  it('weft proxy-config --admin refuses an admin endpoint that belongs to another proxy', async () => {
    const ordersAdmin = await (proxies.get('orders-1') as ManagedProcess).listening('admin');
    const result = await weftCli('proxy-config', 'frontend.default', 'routes', '--admin', `http://${formatHostPort(ordersAdmin)}`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the admin endpoint at http:\/\/127\.0\.0\.1:\d+ belongs to orders-1\.default, not frontend\.default/);
  });
});
