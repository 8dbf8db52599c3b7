// The whole mesh on real kernel networking: pods in network namespaces with transparent capture
// (weft-init + original destination), sidecars as UID 1337, the control plane reading the
// cluster from the Kubernetes API double. Applications call plain service URLs
// (http://orders.default.svc.cluster.local:8080/) and know nothing of sidecars. Every scenario
// asserts counts. Skipped, with the reason printed, where root or iptables is missing.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { PROGRAMS } from '@weft/cli';
import { pollUntil } from '@weft/runtime';
import { MESH_API } from '../../packages/controlplane/test/kube-objects.ts';
import { NetnsCluster, type LoadSummary, type PodSpec } from './cluster.ts';
import { exclusiveNetnsTests, listNamespaces, netnsUnavailable } from './namespaces.ts';

const unavailable = netnsUnavailable();
if (unavailable) process.stdout.write(`# skipped: ${unavailable}\n`);

const ECHO = fileURLToPath(new URL('../loopback/echo-server.ts', import.meta.url));
const GRPC_ECHO = fileURLToPath(new URL('../loopback/grpc-echo-server.ts', import.meta.url));
const ORDERS = 'http://orders.default.svc.cluster.local:8080/';
const INVENTORY = 'http://inventory:8080/';
const ORDERS_ROUTES = 'orders.default.svc.cluster.local:8080';
/** Every pod with a sidecar, but orders-v2 (the pod-deletion scenario removes it). */
const MESHED_PODS = ['client-a', 'client-b', 'closed-client', 'orders-v1', 'inventory-1', 'inventory-2', 'echo-1', 'greeter-1'];

/** What each scenario counted, printed at the end (for the closing note). */
const counts: Record<string, unknown> = {};

function customResource(kind: string, name: string, spec: unknown, namespace = 'default') {
  return { apiVersion: MESH_API, kind, metadata: { name, namespace }, spec };
}

/** Workloads a sidecar may send to: ready endpoints in its configuration. */
function readyWorkloads(dump: { configs: Record<string, { resources: Record<string, { config: unknown }> }> }): string[] {
  return Object.values(dump.configs.endpoints?.resources ?? {}).flatMap(({ config }) => (config as { endpoints: { workload: string; ready: boolean }[] }).endpoints.filter((endpoint) => endpoint.ready).map((endpoint) => endpoint.workload));
}

const demoApp = (workload: string, service: string, port: number, extra: string[] = []) => ({ program: PROGRAMS.demoApp, args: ['--workload', workload, '--service', service, ...extra], port });

describe('the mesh in network namespaces', { skip: unavailable }, () => {
  let cluster: NetnsCluster;
  let namespacesBefore: string[];

  /** Applies a custom resource and waits until the control plane has accepted this generation of it. */
  async function apply(resource: ReturnType<typeof customResource>): Promise<void> {
    const stored = cluster.api.apply(resource);
    const generation = (stored.metadata as { generation?: number }).generation;
    await pollUntil(`${resource.kind} ${resource.metadata.name} accepted`, 10_000, () => {
      const status = (cluster.api.get(MESH_API, resource.kind, resource.metadata.namespace, resource.metadata.name)?.status ?? {}) as { conditions?: { type: string; status: string; observedGeneration?: number; message: string }[] };
      const accepted = status.conditions?.find((condition) => condition.type === 'Accepted');
      if (accepted?.status === 'False') throw new Error(`${resource.kind} ${resource.metadata.name} refused: ${accepted.message}`);
      return accepted?.status === 'True' && accepted.observedGeneration === generation ? true : undefined;
    });
  }

  /** Waits until `pod`'s sidecar holds a route configuration for orders that satisfies `test`. */
  async function routeSeen(pod: string, test: (config: string) => boolean): Promise<void> {
    await pollUntil(`${pod} to receive the route`, 10_000, async () => {
      const dump = await cluster.configDump(pod).catch(() => undefined);
      const route = dump?.configs.route?.resources[ORDERS_ROUTES];
      return route && test(JSON.stringify(route.config)) ? true : undefined;
    });
  }

  let release: (() => void) | undefined;

  before(async () => {
    release = await exclusiveNetnsTests();
    namespacesBefore = await listNamespaces();
    cluster = await NetnsCluster.start();
    await cluster.addService({ name: 'orders', selector: { app: 'orders' }, ports: [{ name: 'http', port: 8080, targetPort: 9080 }] });
    await cluster.addService({ name: 'inventory', selector: { app: 'inventory' }, ports: [{ name: 'http', port: 8080, targetPort: 9080 }] });
    await cluster.addService({ name: 'echo', selector: { app: 'echo' }, ports: [{ name: 'tcp-echo', port: 7000, targetPort: 7070 }] });
    await cluster.addService({ name: 'greeter', selector: { app: 'greeter' }, ports: [{ name: 'grpc', port: 9090, targetPort: 9091 }] });
    // Mesh-wide STRICT: plaintext is refused on every meshed port.
    cluster.api.apply(customResource('MeshAuthentication', 'default', { mtls: { mode: 'STRICT' } }, 'weft-system'));
    const pods: PodSpec[] = [
      { name: 'orders-v1', labels: { app: 'orders', version: 'v1' }, serviceAccount: 'orders', app: demoApp('orders-v1', 'orders', 9080) },
      { name: 'orders-v2', labels: { app: 'orders', version: 'v2' }, serviceAccount: 'orders', app: demoApp('orders-v2', 'orders', 9080) },
      { name: 'inventory-1', labels: { app: 'inventory' }, serviceAccount: 'inventory', app: demoApp('inventory-1', 'inventory', 9080) },
      { name: 'inventory-2', labels: { app: 'inventory' }, serviceAccount: 'inventory', app: demoApp('inventory-2', 'inventory', 9080) },
      { name: 'echo-1', labels: { app: 'echo' }, serviceAccount: 'echo', app: { program: ECHO, args: ['--workload', 'echo-1', '--mode', 'tcp'], port: 7070 } },
      { name: 'greeter-1', labels: { app: 'greeter' }, serviceAccount: 'greeter', app: { program: GRPC_ECHO, args: ['--workload', 'greeter-1'], port: 9091 } },
      // Outside the mesh: no sidecar, behind no service (reached by pod IP).
      { name: 'outside', sidecar: false, app: { program: ECHO, args: ['--workload', 'outside', '--mode', 'tcp'], port: 7070 } },
      { name: 'outside-web', sidecar: false, app: demoApp('outside-web', 'outside-web', 8081) },
      { name: 'client-a', labels: { app: 'client-a' }, serviceAccount: 'client-a' },
      { name: 'client-b', labels: { app: 'client-b' }, serviceAccount: 'client-b' },
      { name: 'closed-client', labels: { app: 'closed-client' }, serviceAccount: 'closed-client', outboundTrafficPolicy: 'REGISTRY_ONLY' },
      { name: 'legacy', sidecar: false },
    ];
    for (const pod of pods) await cluster.addPod(pod);
  });

  after(async () => {
    process.stdout.write(`# netns scenario counts: ${JSON.stringify(counts)}\n`);
    await cluster?.stop();
    const namespacesAfter = await listNamespaces();
    release?.();
    assert.deepEqual(namespacesAfter, namespacesBefore, 'every namespace the harness made is gone');
  });

  /** Every request got `status`; a failure names the proxies' flags and when the failures came. */
  const expectAll = (summary: LoadSummary, status = '200'): void =>
    assert.deepEqual({ statuses: summary.statuses, errors: summary.errors }, { statuses: { [status]: summary.sent }, errors: {} }, `${summary.sent} sent: statuses ${JSON.stringify(summary.statuses)}, errors ${JSON.stringify(summary.errors)}, proxy answers ${JSON.stringify(summary.proxyAnswers)}, failures at ${JSON.stringify(summary.failuresAtMs)} ms`);

  it('STRICT mTLS: meshed callers succeed, a plaintext pod is refused', async () => {
    const meshed = await cluster.load('client-a', ['http', ORDERS, '--count', '100']);
    expectAll(meshed);
    const plaintext = await cluster.load('legacy', ['http', ORDERS, '--count', '20', '--concurrency', '1']);
    counts.strict = { meshedOk: meshed.ok, meshedSent: meshed.sent, plaintextOk: plaintext.ok, plaintextSent: plaintext.sent, plaintextErrors: plaintext.errors };
    assert.equal(plaintext.sent, 20);
    assert.equal(plaintext.ok, 0, 'no plaintext request reached orders');
  });

  it('canary 90/10: 1000 requests, every one answered, about a tenth by v2', async () => {
    await apply(customResource('DestinationPolicy', 'orders', { host: 'orders', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] }));
    await apply(customResource('TrafficRoute', 'orders', { hosts: ['orders'], http: [{ route: [{ destination: { host: 'orders', subset: 'v1' }, weight: 90 }, { destination: { host: 'orders', subset: 'v2' }, weight: 10 }] }] }));
    await routeSeen('client-a', (config) => config.includes('"weight":90'));
    const summary = await cluster.load('client-a', ['http', ORDERS, '--count', '1000', '--concurrency', '8']);
    counts.canary = summary.by;
    expectAll(summary);
    const v2 = summary.by['orders-v2'] ?? 0;
    // Binomial(1000, 0.1): mean 100, standard deviation 9.5; 60..140 is more than four deviations.
    assert.ok(v2 >= 60 && v2 <= 140, `v2 answered ${v2} of 1000`);
    assert.equal((summary.by['orders-v1'] ?? 0) + v2, 1000);
  });

  it('header routing: x-canary: 1 goes to v2 only', async () => {
    await apply(customResource('TrafficRoute', 'orders', {
      hosts: ['orders'],
      http: [
        { name: 'canary', match: [{ headers: { 'x-canary': { exact: '1' } } }], route: [{ destination: { host: 'orders', subset: 'v2' } }] },
        { route: [{ destination: { host: 'orders', subset: 'v1' }, weight: 90 }, { destination: { host: 'orders', subset: 'v2' }, weight: 10 }] },
      ],
    }));
    await routeSeen('client-a', (config) => config.includes('"name":"canary"'));
    const tagged = await cluster.load('client-a', ['http', ORDERS, '--count', '200', '--header', 'x-canary: 1']);
    counts.headerRouting = tagged.by;
    expectAll(tagged);
    assert.deepEqual(tagged.by, { 'orders-v2': 200 });
  });

  it('retries hide a failing replica: 300 requests, none fails, the failing one was tried', async () => {
    await cluster.behave('inventory-2', 'status=503');
    await apply(customResource('TrafficRoute', 'inventory', { hosts: ['inventory'], http: [{ route: [{ destination: { host: 'inventory' } }], retries: { attempts: 3, retryOn: '5xx' } }] }));
    const summary = await cluster.load('client-a', ['http', INVENTORY, '--count', '300', '--concurrency', '2']);
    const failing = JSON.parse(await cluster.curl('inventory-2', 'http://127.0.0.1:9080/__stats')) as { requests: number };
    counts.retries = { ...summary.by, statuses: summary.statuses, failingReplicaTried: failing.requests };
    expectAll(summary);
    assert.deepEqual(summary.by, { 'inventory-1': 300 });
    assert.ok(failing.requests >= 10, `the failing replica saw ${failing.requests} requests`);
  });

  it('outlier ejection: the failing replica is ejected and then gets no traffic', async () => {
    await apply(customResource('DestinationPolicy', 'inventory', { host: 'inventory', trafficPolicy: { outlierDetection: { consecutive5xxErrors: 2, interval: '1s', baseEjectionTime: '60s', maxEjectionPercent: 50 } } }));
    await pollUntil('the outlier policy in client-a', 10_000, async () => ((await cluster.curl('client-a', 'http://127.0.0.1:15000/config_dump')).includes('consecutive5xx') ? true : undefined));
    const warmup = await cluster.load('client-a', ['http', INVENTORY, '--count', '50', '--concurrency', '1']);
    expectAll(warmup);
    const clusters = JSON.parse(await cluster.curl('client-a', 'http://127.0.0.1:15000/clusters')) as { clusters: { name: string; ejectionsTotal: number }[] };
    const ejections = clusters.clusters.find((entry) => entry.name.endsWith('inventory.default.svc.cluster.local'))?.ejectionsTotal ?? 0;
    const before = (JSON.parse(await cluster.curl('inventory-2', 'http://127.0.0.1:9080/__stats')) as { requests: number }).requests;
    const after = await cluster.load('client-a', ['http', INVENTORY, '--count', '200', '--concurrency', '1']);
    const later = (JSON.parse(await cluster.curl('inventory-2', 'http://127.0.0.1:9080/__stats')) as { requests: number }).requests;
    counts.outlier = { ejections, failingReplicaRequestsAfterEjection: later - before, ok: after.ok, sent: after.sent };
    assert.ok(ejections >= 1, 'inventory-2 was ejected');
    expectAll(after);
    assert.equal(later - before, 0, 'an ejected replica gets no requests');
    await cluster.behave('inventory-2', 'status=200');
  });

  it('AccessPolicy: DENY client-b on orders — 403 for every request of it, 200 for client-a', async () => {
    await apply(customResource('AccessPolicy', 'orders-deny-b', { selector: { matchLabels: { app: 'orders' } }, action: 'DENY', rules: [{ from: [{ source: { principals: ['cluster.local/ns/default/sa/client-b'] } }] }] }));
    await pollUntil('the policy in orders-v1 and orders-v2', 10_000, async () => {
      const dumps = await Promise.all(['orders-v1', 'orders-v2'].map((pod) => cluster.curl(pod, 'http://127.0.0.1:15000/config_dump')));
      return dumps.every((dump) => dump.includes('orders-deny-b')) ? true : undefined;
    });
    const denied = await cluster.load('client-b', ['http', ORDERS, '--count', '100']);
    const allowed = await cluster.load('client-a', ['http', ORDERS, '--count', '100']);
    counts.accessPolicy = { denied: denied.statuses, allowed: allowed.statuses };
    expectAll(denied, '403');
    expectAll(allowed);
  });

  it('TCP: to a mesh TCP service through both sidecars, and passed through to a destination outside the mesh', async () => {
    const mesh = await cluster.load('client-a', ['tcp', 'echo.default.svc.cluster.local', '7000', '--count', '50']);
    const passthrough = await cluster.load('client-a', ['tcp', cluster.podAddress('outside'), '7070', '--count', '20']);
    counts.tcp = { mesh: { ok: mesh.ok, sent: mesh.sent }, passthrough: { ok: passthrough.ok, sent: passthrough.sent } };
    assert.deepEqual([mesh.ok, mesh.errors], [50, {}]);
    assert.deepEqual([passthrough.ok, passthrough.errors], [20, {}]);
  });

  it('REGISTRY_ONLY: mesh services work, other destinations get 502 (HTTP) or a reset (TCP)', async () => {
    const inside = await cluster.load('closed-client', ['http', ORDERS, '--count', '20']);
    const http = await cluster.load('closed-client', ['http', `http://${cluster.podAddress('outside-web')}:8081/`, '--count', '20', '--concurrency', '1']);
    const tcp = await cluster.load('closed-client', ['tcp', cluster.podAddress('outside'), '7070', '--count', '10']);
    counts.registryOnly = { inside: inside.statuses, http: http.statuses, tcp: { ok: tcp.ok, errors: tcp.errors } };
    expectAll(inside);
    expectAll(http, '502');
    assert.equal(tcp.ok, 0);
    assert.equal(tcp.sent, 10);
  });

  it('gRPC through the mesh: 100 unary calls', async () => {
    const summary = await cluster.load('client-a', ['grpc', 'greeter.default.svc.cluster.local:9090', '--count', '100']);
    counts.grpc = { ok: summary.ok, errors: summary.errors, by: summary.by };
    assert.deepEqual([summary.ok, summary.errors, summary.by], [100, {}, { 'greeter-1': 100 }]);
  });

  it('the control plane killed mid-traffic: no request fails, and a change made meanwhile arrives after its restart', async () => {
    const traffic = cluster.startLoad('client-a', ['http', ORDERS, '--duration-ms', '60000', '--concurrency', '2']);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await cluster.killControlPlane();
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // While it is down: everything to v1.
    cluster.api.apply(customResource('TrafficRoute', 'orders', { hosts: ['orders'], http: [{ name: 'all-v1', route: [{ destination: { host: 'orders', subset: 'v1' } }] }] }));
    await cluster.startControlPlane();
    await routeSeen('client-a', (config) => config.includes('"name":"all-v1"'));
    // Resync means every proxy, not only the caller: each is back on the stream (some may still
    // have been in reconnect backoff when the caller got the change).
    await pollUntil('every sidecar to reconnect to the control plane', 15_000, async () => {
      const dumps = await Promise.all(MESHED_PODS.map((pod) => cluster.configDump(pod)));
      return dumps.every((dump) => (dump as unknown as { xds: { connected: boolean } }).xds.connected) ? true : undefined;
    });
    traffic.stop();
    const summary = await traffic.summary;
    counts.controlPlaneRestart = { sent: summary.sent, ok: summary.ok, statuses: summary.statuses, errors: summary.errors };
    assert.ok(summary.sent > 100, `only ${summary.sent} requests were sent`);
    expectAll(summary);
  });

  it('a pod deleted: its endpoint leaves every proxy within 2 s, and no request fails meanwhile', async () => {
    await apply(customResource('TrafficRoute', 'orders', { hosts: ['orders'], http: [{ route: [{ destination: { host: 'orders' } }] }] }));
    await routeSeen('client-a', (config) => !config.includes('all-v1'));
    const traffic = cluster.startLoad('client-a', ['http', ORDERS, '--duration-ms', '60000', '--concurrency', '2']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const startedAt = Date.now();
    const deletion = cluster.deletePod('orders-v2', 3000);
    const left = await pollUntil('orders-v2 to leave every proxy', 5000, async () => {
      const dumps = await Promise.all(MESHED_PODS.map((pod) => cluster.configDump(pod)));
      const stillChosen = dumps.some((dump) => readyWorkloads(dump).includes('orders-v2.default'));
      return stillChosen ? undefined : Date.now() - startedAt;
    }, 50);
    await deletion;
    traffic.stop();
    const summary = await traffic.summary;
    counts.podDeleted = { leftEveryProxyMs: left, sent: summary.sent, ok: summary.ok, statuses: summary.statuses, errors: summary.errors, by: summary.by };
    assert.ok(left <= 2000, `the endpoint took ${left} ms to leave every proxy`);
    expectAll(summary);
  });
});
