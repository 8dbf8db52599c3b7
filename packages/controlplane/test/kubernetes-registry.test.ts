// The Kubernetes registry against the API test double, with the real @kubernetes/client-node:
// services and workloads from Services, EndpointSlices and Pods; watches that survive drops,
// 410 Gone, server errors and refused connections; readiness only after the first sync.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { createLogger, pollUntil } from '@weft/runtime';
import type { MeshModel } from '../src/model/mesh-model.ts';
import { KubernetesRegistry } from '../src/registry/kubernetes/kubernetes-registry.ts';
import { KubeApiDouble } from './kube-api-double.ts';
import { customResource, endpointSlice, ordersCluster, pod, service } from './kube-objects.ts';

const log = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
const FAST_BACKOFF = { baseMs: 20, maxMs: 200 };
const ORDERS = 'orders.default.svc.cluster.local';

function newRegistry(api: KubeApiDouble): KubernetesRegistry {
  return new KubernetesRegistry({ kubeConfig: api.kubeConfig(), log, backoff: FAST_BACKOFF, settleMs: 5 });
}

function waitForModel(registry: KubernetesRegistry, what: string, test: (model: MeshModel) => boolean): Promise<MeshModel> {
  return pollUntil(what, 10_000, () => (test(registry.current()) ? registry.current() : undefined));
}

const listsOf = (api: KubeApiDouble, path: string): number => api.requests.filter((request) => request.path === path && !request.watch && request.method === 'GET').length;

describe('Kubernetes registry: the mesh from Services, EndpointSlices and Pods', () => {
  let api: KubeApiDouble;
  let registry: KubernetesRegistry;

  before(async () => {
    api = await KubeApiDouble.start({ bookmarkIntervalMs: 200 });
    for (const object of ordersCluster()) api.apply(object);
    registry = newRegistry(api);
    await registry.start();
  });

  after(async () => {
    registry?.stop();
    await api?.stop();
  });

  it('declares services with their ports, and pods behind them as workloads with target ports', () => {
    const model = registry.current();
    const orders = model.services.get(ORDERS);
    assert.ok(orders);
    assert.deepEqual(orders.ports, [{ name: 'http', port: 8080, protocol: 'HTTP' }]);
    assert.deepEqual(orders.addresses, ['198.19.0.10'], 'the ClusterIP, which captured connections carry');
    assert.deepEqual(
      orders.endpoints.map((endpoint) => [endpoint.workload, endpoint.address, endpoint.targetPorts.get(8080), endpoint.serviceAccount, endpoint.mtls, endpoint.labels.version]),
      [
        ['orders-v1-0.default', '10.0.0.11', 9080, 'orders', true, 'v1'],
        ['orders-v2-0.default', '10.0.0.12', 9080, 'orders', true, 'v2'],
      ],
    );
    const frontend = model.workloads.get('frontend-0.default');
    assert.deepEqual(frontend?.ports, [{ name: 'http', port: 8080, targetPort: 9080, protocol: 'HTTP' }]);
  });

  it('follows EndpointSlice readiness, and keeps a Service without pods (routes to it stay valid)', async () => {
    api.apply(endpointSlice('orders', [{ name: 'orders-v1-0', ip: '10.0.0.11', ready: false }, { name: 'orders-v2-0', ip: '10.0.0.12' }], [{ name: 'http', port: 8080, targetPort: 9080 }]));
    await waitForModel(registry, 'orders-v1-0 not ready', (model) => model.services.get(ORDERS)?.endpoints.find((endpoint) => endpoint.workload === 'orders-v1-0.default')?.ready === false);
    api.apply(service('empty', [{ name: 'grpc-api', port: 9090, targetPort: 9090 }]));
    api.apply(customResource('TrafficRoute', 'empty', { hosts: ['empty'], http: [{ route: [{ destination: { host: 'empty' } }] }] }));
    const model = await waitForModel(registry, 'the empty service routed', (candidate) => candidate.trafficRoutes.has('empty.default.svc.cluster.local'));
    assert.deepEqual(model.services.get('empty.default.svc.cluster.local')?.ports, [{ name: 'grpc-api', port: 9090, protocol: 'GRPC' }]);
    assert.equal(model.services.get('empty.default.svc.cluster.local')?.endpoints.length, 0);
  });

  it('takes a terminating pod out of rotation even while it still serves (ready and serving true)', async () => {
    const ready = (model: MeshModel, workload: string) => model.services.get(ORDERS)?.endpoints.find((endpoint) => endpoint.workload === workload)?.ready;
    api.apply(endpointSlice('orders', [{ name: 'orders-v1-0', ip: '10.0.0.11' }, { name: 'orders-v2-0', ip: '10.0.0.12' }], [{ name: 'http', port: 8080, targetPort: 9080 }]));
    await waitForModel(registry, 'both orders pods ready', (model) => ready(model, 'orders-v1-0.default') === true && ready(model, 'orders-v2-0.default') === true);
    // As a Service with publishNotReadyAddresses reports a pod being deleted: still ready and serving, but terminating.
    api.apply(endpointSlice('orders', [{ name: 'orders-v1-0', ip: '10.0.0.11', terminating: true }, { name: 'orders-v2-0', ip: '10.0.0.12' }], [{ name: 'http', port: 8080, targetPort: 9080 }]));
    const model = await waitForModel(registry, 'orders-v1-0 out of rotation', (candidate) => ready(candidate, 'orders-v1-0.default') === false);
    assert.equal(ready(model, 'orders-v2-0.default'), true);
  });

  it('makes a meshed pod that backs no Service a workload, so its sidecar gets configuration', async () => {
    api.apply(pod({ name: 'batch-0', ip: '10.0.0.31', serviceAccount: 'batch' }));
    api.apply(pod({ name: 'plain-0', ip: '10.0.0.32', sidecar: false }));
    const model = await waitForModel(registry, 'batch-0 in the model', (candidate) => candidate.workloads.has('batch-0.default'));
    assert.equal(model.workloads.get('batch-0.default')?.serviceAccount, 'batch');
    assert.equal(model.workloads.has('plain-0.default'), false, 'a pod without a sidecar that backs nothing is not the mesh’s business');
  });

  it('drops a deleted Service from the model', async () => {
    api.apply(service('gone', [{ name: 'http', port: 80, targetPort: 8080 }]));
    await waitForModel(registry, 'gone present', (model) => model.services.has('gone.default.svc.cluster.local'));
    api.delete('v1', 'Service', 'default', 'gone');
    await waitForModel(registry, 'gone absent', (model) => !model.services.has('gone.default.svc.cluster.local'));
  });
});

describe('Kubernetes registry: watches that survive the API server', () => {
  let api: KubeApiDouble;
  let registry: KubernetesRegistry | undefined;
  const hasService = (name: string) => (model: MeshModel) => model.services.has(`${name}.default.svc.cluster.local`);

  before(async () => {
    api = await KubeApiDouble.start({ bookmarkIntervalMs: 200 });
  });

  afterEach(() => {
    registry?.stop();
    registry = undefined;
  });

  after(() => api?.stop());

  it('is not started (not ready) until every watch has listed once, even through failing lists', async () => {
    api.failNext({ method: 'GET', path: /^\/api\/v1\/services$/, watch: false }, 500, 3);
    registry = newRegistry(api);
    let started = false;
    const starting = registry.start().then(() => (started = true));
    await pollUntil('three failed service lists', 5000, () => (api.requests.filter((request) => request.path === '/api/v1/services' && !request.watch).length >= 3 ? true : undefined));
    assert.equal(started, false, 'ready before the services were listed');
    await starting;
    assert.ok(listsOf(api, '/api/v1/services') >= 4, 'listed again after the failures');
    assert.ok(registry.status().watches?.some((watch) => (watch as { restarts: number }).restarts >= 3));
  });

  it('resumes a dropped watch from its resourceVersion without losing an event made meanwhile', async () => {
    registry = newRegistry(api);
    await registry.start();
    const lists = listsOf(api, '/api/v1/services');
    api.dropWatches();
    api.apply(service('during-drop', [{ name: 'http', port: 80, targetPort: 8080 }]));
    await waitForModel(registry, 'during-drop', hasService('during-drop'));
    assert.equal(listsOf(api, '/api/v1/services'), lists, 'resumed by watching from the last resourceVersion, not by relisting');
  });

  for (const mode of ['http-410', 'error-event'] as const) {
    it(`relists on 410 Gone (${mode}) and sees a deletion made meanwhile`, async () => {
      api.apply(service(`expiring-${mode}`, [{ name: 'http', port: 80, targetPort: 8080 }]));
      registry = newRegistry(api);
      await registry.start();
      const lists = listsOf(api, '/api/v1/services');
      api.expireWatches(mode);
      api.delete('v1', 'Service', 'default', `expiring-${mode}`);
      await waitForModel(registry, `expiring-${mode} gone`, (model) => !hasService(`expiring-${mode}`)(model));
      assert.ok(listsOf(api, '/api/v1/services') > lists, 'relisted');
    });
  }

  it('is not left dead by a watch answered with HTTP 500, or by a connection cut mid-stream', async () => {
    registry = newRegistry(api);
    await registry.start();
    api.failNext({ method: 'GET', path: /^\/api\/v1\/services$/, watch: true }, 500, 2);
    api.dropWatches();
    api.apply(service('after-500', [{ name: 'http', port: 80, targetPort: 8080 }]));
    await waitForModel(registry, 'after-500', hasService('after-500'));
    api.resetWatches();
    api.apply(service('after-reset', [{ name: 'http', port: 80, targetPort: 8080 }]));
    await waitForModel(registry, 'after-reset', hasService('after-reset'));
  });

  it('comes back after the API server refused connections for a while', async () => {
    registry = newRegistry(api);
    await registry.start();
    const watches = registry.status().watches as { restarts: number }[];
    const restartsBefore = watches.reduce((sum, watch) => sum + watch.restarts, 0);
    await api.stop();
    api.apply(service('while-down', [{ name: 'http', port: 80, targetPort: 8080 }]));
    const current = registry;
    await pollUntil('restarts against a refusing server', 5000, () => ((current.status().watches as { restarts: number }[]).reduce((sum, watch) => sum + watch.restarts, 0) > restartsBefore ? true : undefined));
    await api.restart();
    await waitForModel(registry, 'while-down', hasService('while-down'));
  });
});
