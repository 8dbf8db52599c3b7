// Tests of the Kubernetes API test double itself, driven by the real @kubernetes/client-node
// 2.0.1 client, so that tests built on the double exercise the client as it behaves in a cluster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AdmissionregistrationV1Api,
  ApiException,
  AuthenticationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
  type KubernetesListObject,
  type V1EndpointSlice,
  type V1Service,
} from '@kubernetes/client-node';
import { KubeApiDouble, type KubeObject } from './kube-api-double.ts';

const DEADLINE_MS = 5000;
const MESH = { group: 'mesh.weft.dev', version: 'v1alpha1' };

/** Polls `check` until it holds or the deadline passes. */
async function eventually(check: () => boolean, what: string, timeoutMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Starts a double for one test and stops it afterwards. */
async function withDouble(run: (double: KubeApiDouble) => Promise<void>, bookmarkIntervalMs = 100): Promise<void> {
  const double = await KubeApiDouble.start({ bookmarkIntervalMs });
  try {
    await run(double);
  } finally {
    await double.stop();
  }
}

function service(name: string, port = 80, namespace = 'default'): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ port }] } };
}

interface Recorded {
  readonly events: string[]; // "add a", "update a", "delete a"
  readonly errors: unknown[];
}

type Informer<T extends KubernetesObject> = ReturnType<typeof makeInformer<T>>;

function record<T extends KubernetesObject>(informer: Informer<T>): Recorded {
  const recorded: Recorded = { events: [], errors: [] };
  for (const verb of ['add', 'update', 'delete'] as const) {
    informer.on(verb, (object) => recorded.events.push(`${verb} ${object.metadata?.name ?? '?'}`));
  }
  informer.on('error', (error) => recorded.errors.push(error));
  return recorded;
}

/** A started Service informer over all namespaces, with its events recorded; stopped by the caller. */
async function serviceInformer(double: KubeApiDouble): Promise<{ informer: Informer<V1Service>; recorded: Recorded }> {
  const config = double.kubeConfig();
  const core = config.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1Service>(config, '/api/v1/services', () => core.listServiceForAllNamespaces());
  const recorded = record(informer);
  await informer.start();
  await eventually(() => double.openWatches === 1, 'the informer to watch');
  return { informer, recorded };
}

function names(informer: Informer<V1Service>): string[] {
  return informer
    .list()
    .map((s) => s.metadata?.name ?? '')
    .sort();
}

function countRequests(double: KubeApiDouble, path: string, watch: boolean): number {
  return double.requests.filter((r) => r.path === path && r.watch === watch && r.method === 'GET').length;
}

/** The HTTP code and Status reason of a client-node ApiException. */
function apiFailure(error: unknown): { code: number; reason: string } {
  assert.ok(error instanceof ApiException, `expected an ApiException, got ${String(error)}`);
  const body = typeof error.body === 'string' ? (JSON.parse(error.body) as { reason?: string }) : {};
  return { code: error.code, reason: body.reason ?? '' };
}

/** Reads a raw watch stream until `done` holds for the events so far, then closes it. */
async function readWatch(url: string, done: (events: { type: string; object: KubeObject }[]) => boolean): Promise<{ type: string; object: KubeObject }[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), DEADLINE_MS);
  const events: { type: string; object: KubeObject }[] = [];
  try {
    const response = await fetch(url, { signal: controller.signal });
    assert.equal(response.status, 200);
    assert.ok(response.body);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line !== '') events.push(JSON.parse(line) as { type: string; object: KubeObject });
      if (done(events)) break;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  assert.ok(done(events), `watch ended early with ${JSON.stringify(events.map((e) => e.type))}`);
  return events;
}

describe('KubeApiDouble with the client-node informer', () => {
  it('delivers ADDED, MODIFIED and DELETED to an informer on Services', () =>
    withDouble(async (double) => {
      double.apply(service('before'));
      const { informer, recorded } = await serviceInformer(double);
      try {
        await eventually(() => recorded.events.includes('add before'), 'the listed Service');
        double.apply(service('orders'));
        await eventually(() => recorded.events.includes('add orders'), 'add orders');
        double.apply(service('orders', 8080));
        await eventually(() => recorded.events.includes('update orders'), 'update orders');
        double.delete('v1', 'Service', 'default', 'orders');
        await eventually(() => recorded.events.includes('delete orders'), 'delete orders');
        assert.deepEqual(recorded.events, ['add before', 'add orders', 'update orders', 'delete orders']);
        assert.deepEqual(recorded.errors, []);
      } finally {
        await informer.stop();
      }
    }));

  it('resumes a dropped watch from its last resourceVersion without losing an event made in the gap', () =>
    withDouble(async (double) => {
      const { informer, recorded } = await serviceInformer(double);
      try {
        double.apply(service('a'));
        await eventually(() => recorded.events.includes('add a'), 'add a');
        const seen = double.resourceVersion;
        double.dropWatches();
        // Same tick: the client cannot have re-watched yet, so this change lands in the gap.
        double.apply(service('in-the-gap'));
        await eventually(() => recorded.events.includes('add in-the-gap'), 'the change made while disconnected');
        assert.ok(double.requests.some((r) => r.watch && new URLSearchParams(r.query).get('resourceVersion') === seen), 're-watched from the last resourceVersion');
        assert.equal(countRequests(double, '/api/v1/services', false), 1, 'no relist');
        assert.deepEqual(recorded.errors, []);
      } finally {
        await informer.stop();
      }
    }));

  for (const mode of ['http-410', 'error-event'] as const) {
    it(`relists after expireWatches('${mode}') and reports a deletion made meanwhile`, () =>
      withDouble(async (double) => {
        double.apply(service('stays'));
        double.apply(service('goes'));
        const { informer, recorded } = await serviceInformer(double);
        try {
          await eventually(() => recorded.events.includes('add goes'), 'the initial list');
          double.expireWatches(mode);
          double.delete('v1', 'Service', 'default', 'goes');
          await eventually(() => recorded.events.includes('delete goes'), 'the deletion, found by the relist');
          assert.equal(countRequests(double, '/api/v1/services', false), 2, 'listed again');
          double.apply(service('later'));
          await eventually(() => recorded.events.includes('add later'), 'a change after the relist');
          assert.deepEqual(names(informer), ['later', 'stays']);
          assert.deepEqual(recorded.errors, []);
        } finally {
          await informer.stop();
        }
      }));
  }

  it("answers a watch from an expired resourceVersion with HTTP 410 in 'http-410' mode", () =>
    withDouble(async (double) => {
      double.apply(service('a'));
      const old = double.resourceVersion;
      double.expireWatches('http-410');
      const response = await fetch(`${double.url}/api/v1/services?watch=true&resourceVersion=${old}`);
      assert.equal(response.status, 410);
      assert.deepEqual(await response.json(), {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${old} (${double.resourceVersion})`,
        reason: 'Expired',
        code: 410,
      });
    }));

  it("answers a watch from an expired resourceVersion with an ERROR event in 'error-event' mode", () =>
    withDouble(async (double) => {
      double.apply(service('a'));
      const old = double.resourceVersion;
      double.expireWatches('error-event');
      const events = await readWatch(`${double.url}/api/v1/services?watch=true&resourceVersion=${old}`, (e) => e.length > 0);
      assert.equal(events[0]?.type, 'ERROR');
      assert.equal(events[0]?.object['code'], 410);
    }));

  it('reports a failing list as an error, after which the informer is stopped until started again', () =>
    withDouble(async (double) => {
      double.apply(service('a'));
      double.failNext({ method: 'GET', path: /^\/api\/v1\/services$/, watch: false }, 500);
      const config = double.kubeConfig();
      const core = config.makeApiClient(CoreV1Api);
      const informer = makeInformer<V1Service>(config, '/api/v1/services', () => core.listServiceForAllNamespaces());
      const recorded = record(informer);
      try {
        await informer.start();
        await eventually(() => recorded.errors.length === 1, 'the error event');
        assert.equal(apiFailure(recorded.errors[0]).code, 500);
        assert.equal(double.openWatches, 0, 'client-node does not watch after a failed list');
        // What Weft's registry must do: start it again.
        await informer.start();
        await eventually(() => recorded.events.includes('add a'), 'the list after a restart');
      } finally {
        await informer.stop();
      }
    }));

  it('reports a failing watch (HTTP 500) and a cut watch connection as errors', () =>
    withDouble(async (double) => {
      double.failNext({ watch: true }, 500);
      const config = double.kubeConfig();
      const core = config.makeApiClient(CoreV1Api);
      const informer = makeInformer<V1Service>(config, '/api/v1/services', () => core.listServiceForAllNamespaces());
      const recorded = record(informer);
      try {
        await informer.start();
        await eventually(() => recorded.errors.length === 1, 'the error for the failed watch');
        assert.equal((recorded.errors[0] as { statusCode?: number }).statusCode, 500);
        await informer.start();
        await eventually(() => double.openWatches === 1, 'the watch after a restart');
        double.resetWatches();
        await eventually(() => recorded.errors.length === 2, 'the error for the cut connection');
        assert.equal(double.openWatches, 0);
      } finally {
        await informer.stop();
      }
    }));

  it('follows a label selector: only matching EndpointSlices, and one relabelled away is deleted', () =>
    withDouble(async (double) => {
      const config = double.kubeConfig();
      const discovery = config.makeApiClient(DiscoveryV1Api);
      const selector = 'kubernetes.io/service-name=orders';
      const informer = makeInformer<V1EndpointSlice>(
        config,
        '/apis/discovery.k8s.io/v1/endpointslices',
        () => discovery.listEndpointSliceForAllNamespaces({ labelSelector: selector }),
        selector,
      );
      const recorded = record(informer);
      const slice = (name: string, service: string): KubeObject => ({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
        addressType: 'IPv4',
        endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }],
        ports: [{ port: 8080 }],
      });
      double.apply(slice('orders-1', 'orders'));
      double.apply(slice('frontend-1', 'frontend'));
      try {
        await informer.start();
        await eventually(() => recorded.events.includes('add orders-1'), 'the matching slice');
        double.apply(slice('orders-2', 'orders'));
        double.apply(slice('frontend-2', 'frontend'));
        await eventually(() => recorded.events.includes('add orders-2'), 'a matching slice added later');
        double.apply(slice('orders-1', 'frontend'));
        await eventually(() => recorded.events.includes('delete orders-1'), 'the slice that stopped matching');
        double.apply(slice('frontend-2', 'orders'));
        await eventually(() => recorded.events.includes('add frontend-2'), 'the slice that started matching');
        assert.deepEqual(recorded.events, ['add orders-1', 'add orders-2', 'delete orders-1', 'add frontend-2']);
        const watches = double.requests.filter((r) => r.watch);
        assert.ok(watches.every((r) => new URLSearchParams(r.query).get('labelSelector') === selector));
      } finally {
        await informer.stop();
      }
    }));
});

describe('KubeApiDouble lifecycle', () => {
  it('refuses connections while stopped and keeps its data across a restart', () =>
    withDouble(async (double) => {
      const core = double.kubeConfig().makeApiClient(CoreV1Api);
      double.apply(service('kept'));
      await double.stop();
      await assert.rejects(fetch(`${double.url}/api/v1/services`), (error: Error) => {
        assert.equal((error.cause as { code?: string } | undefined)?.code, 'ECONNREFUSED');
        return true;
      });
      await assert.rejects(core.listServiceForAllNamespaces());
      await double.restart();
      const services = await core.listServiceForAllNamespaces();
      assert.deepEqual(
        services.items.map((s) => s.metadata?.name),
        ['kept'],
      );
    }));

  it('cuts open watches on stop, which the informer reports as an error', () =>
    withDouble(async (double) => {
      const { informer, recorded } = await serviceInformer(double);
      try {
        await double.stop();
        await eventually(() => recorded.errors.length === 1, 'the error for the cut watch');
        await double.restart();
        double.apply(service('after-restart'));
        await informer.start();
        await eventually(() => recorded.events.includes('add after-restart'), 'the informer, started again');
      } finally {
        await informer.stop();
      }
    }));
});

describe('KubeApiDouble REST semantics', () => {
  it('writes custom resource status only through /status, and bumps generation only for spec changes', () =>
    withDouble(async (double) => {
      const config = double.kubeConfig();
      const custom = config.makeApiClient(CustomObjectsApi);
      const route = { ...MESH, namespace: 'shop', plural: 'trafficroutes', name: 'orders' };
      const informer = makeInformer<KubernetesObject>(config, '/apis/mesh.weft.dev/v1alpha1/trafficroutes', () =>
        custom.listClusterCustomObject({ ...MESH, plural: 'trafficroutes' }) as Promise<KubernetesListObject<KubernetesObject>>,
      );
      const recorded = record(informer);
      await informer.start();
      try {
        const created = (await custom.createNamespacedCustomObject({
          ...route,
          body: { apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'TrafficRoute', metadata: { name: 'orders' }, spec: { hosts: ['orders'] }, status: { ignored: true } },
        })) as KubeObject;
        assert.equal(created.metadata.generation, 1);
        assert.equal(created['status'], undefined, 'status in a create is ignored');
        await eventually(() => recorded.events.includes('add orders'), 'add orders');

        const accepted = { observedGeneration: 1, conditions: [{ type: 'Accepted', status: 'True', reason: 'Valid', message: '' }] };
        const afterStatus = (await custom.replaceNamespacedCustomObjectStatus({
          ...route,
          body: { ...created, spec: { hosts: ['not-applied'] }, status: accepted },
        })) as KubeObject;
        assert.deepEqual(afterStatus['spec'], { hosts: ['orders'] }, 'a status write leaves spec alone');
        assert.deepEqual(afterStatus['status'], accepted);
        assert.equal(afterStatus.metadata.generation, 1);
        assert.ok(Number(afterStatus.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
        await eventually(() => recorded.events.includes('update orders'), 'the status write as MODIFIED');

        const respec = (await custom.replaceNamespacedCustomObject({
          ...route,
          body: { ...afterStatus, spec: { hosts: ['orders', 'orders.shop'] }, status: { ignored: true } },
        })) as KubeObject;
        assert.equal(respec.metadata.generation, 2);
        assert.deepEqual(respec['status'], accepted, 'the main endpoint ignores status');

        const merged = (await custom.patchNamespacedCustomObjectStatus(
          { ...route, body: { status: { observedGeneration: 2 } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )) as KubeObject;
        assert.deepEqual(merged['status'], { ...accepted, observedGeneration: 2 });
        assert.equal(merged.metadata.generation, 2);

        // client-node's default PATCH content type is JSON patch: an array of operations.
        const jsonPatched = (await custom.patchNamespacedCustomObjectStatus({
          ...route,
          body: [{ op: 'replace', path: '/status/conditions/0/reason', value: 'StillValid' }],
        })) as KubeObject;
        assert.equal((jsonPatched['status'] as typeof accepted).conditions[0]?.reason, 'StillValid');

        // A merge-patch object sent as JSON patch (forgetting the Content-Type) fails, as on a real server.
        await assert.rejects(custom.patchNamespacedCustomObjectStatus({ ...route, body: { status: {} } }), (e) => apiFailure(e).code === 400);
        // Custom resources do not take strategic merge patches.
        await assert.rejects(
          custom.patchNamespacedCustomObjectStatus({ ...route, body: { status: {} } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)),
          (e) => apiFailure(e).code === 415,
        );

        // Writing the same status again changes nothing: no new resourceVersion.
        const same = (await custom.patchNamespacedCustomObjectStatus(
          { ...route, body: { status: { observedGeneration: 2 } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )) as KubeObject;
        assert.equal(same.metadata.resourceVersion, jsonPatched.metadata.resourceVersion);

        assert.deepEqual(
          double.statusWrites.map((w) => [w.method, w.name, w.generation, w.changed]),
          [
            ['PUT', 'orders', 1, true],
            ['PATCH', 'orders', 2, true],
            ['PATCH', 'orders', 2, true],
            ['PATCH', 'orders', 2, false],
          ],
        );
        // The apply() helper, like `kubectl apply`, keeps the status the controller wrote.
        const reapplied = double.apply({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'TrafficRoute', metadata: { name: 'orders', namespace: 'shop' }, spec: { hosts: ['orders'] } });
        assert.equal(reapplied.metadata.generation, 3);
        assert.equal((reapplied['status'] as { observedGeneration: number }).observedGeneration, 2);
      } finally {
        await informer.stop();
      }
    }));

  it('requires metadata.resourceVersion to update a custom resource', () =>
    withDouble(async (double) => {
      const custom = double.kubeConfig().makeApiClient(CustomObjectsApi);
      const stored = double.apply({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'AccessPolicy', metadata: { name: 'p', namespace: 'shop' }, spec: {} });
      const { resourceVersion: _dropped, ...metadata } = stored.metadata;
      await assert.rejects(
        custom.replaceNamespacedCustomObjectStatus({ ...MESH, namespace: 'shop', plural: 'accesspolicies', name: 'p', body: { ...stored, metadata, status: {} } }),
        (e) => apiFailure(e).code === 422,
      );
    }));

  it('refuses a stale Lease update with 409 Conflict and a second create with 409 AlreadyExists', () =>
    withDouble(async (double) => {
      const coordination = double.kubeConfig().makeApiClient(CoordinationV1Api);
      const where = { namespace: 'weft-system', name: 'weft-controlplane' };
      const lease = await coordination.createNamespacedLease({
        namespace: where.namespace,
        body: { metadata: { name: where.name }, spec: { holderIdentity: 'replica-a', leaseDurationSeconds: 15 } },
      });
      await assert.rejects(
        coordination.createNamespacedLease({ namespace: where.namespace, body: { metadata: { name: where.name }, spec: {} } }),
        (e) => apiFailure(e).code === 409 && apiFailure(e).reason === 'AlreadyExists',
      );
      const renewed = await coordination.replaceNamespacedLease({ ...where, body: { ...lease, spec: { ...lease.spec, renewTime: new Date() } } });
      assert.notEqual(renewed.metadata?.resourceVersion, lease.metadata?.resourceVersion);
      // Replica b still holds the first version: its takeover must fail.
      await assert.rejects(
        coordination.replaceNamespacedLease({ ...where, body: { ...lease, spec: { ...lease.spec, holderIdentity: 'replica-b' } } }),
        (e) => apiFailure(e).code === 409 && apiFailure(e).reason === 'Conflict',
      );
      const current = await coordination.readNamespacedLease(where);
      assert.equal(current.spec?.holderIdentity, 'replica-a');
    }));

  it('reviews tokens: the right audience authenticates the service account; wrong audience, expired or unknown do not', () =>
    withDouble(async (double) => {
      const authentication = double.kubeConfig().makeApiClient(AuthenticationV1Api);
      double.registerToken('good', { namespace: 'shop', serviceAccount: 'orders', audiences: ['weft-ca'] });
      double.registerToken('expired', { namespace: 'shop', serviceAccount: 'orders', audiences: ['weft-ca'], expired: true });
      const review = (token: string, audiences: string[]) => authentication.createTokenReview({ body: { spec: { token, audiences } } });

      const good = await review('good', ['weft-ca']);
      assert.equal(good.status?.authenticated, true);
      assert.equal(good.status?.user?.username, 'system:serviceaccount:shop:orders');
      assert.deepEqual(good.status?.user?.groups, ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated']);
      assert.deepEqual(good.status?.audiences, ['weft-ca']);

      for (const [token, audiences, error] of [
        ['good', ['kubernetes'], /audiences/],
        ['expired', ['weft-ca'], /expired/],
        ['unknown', ['weft-ca'], /invalid bearer token/],
      ] as const) {
        const refused = await review(token, [...audiences]);
        assert.equal(refused.status?.authenticated, false, token);
        assert.match(refused.status?.error ?? '', error);
      }
    }));

  it('patches a MutatingWebhookConfiguration with client-node default JSON patch', () =>
    withDouble(async (double) => {
      const admission = double.kubeConfig().makeApiClient(AdmissionregistrationV1Api);
      await admission.createMutatingWebhookConfiguration({
        body: {
          metadata: { name: 'weft-injector' },
          webhooks: [{ name: 'inject.weft.dev', clientConfig: { service: { name: 'weft', namespace: 'weft-system', port: 15017 } }, sideEffects: 'None', admissionReviewVersions: ['v1'] }],
        },
      });
      const patched = await admission.patchMutatingWebhookConfiguration({
        name: 'weft-injector',
        body: [{ op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: 'Q0E=' }],
      });
      assert.equal(patched.webhooks?.[0]?.clientConfig.caBundle, 'Q0E=');
      assert.equal(patched.metadata?.generation, 2);
      assert.equal((double.get('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', undefined, 'weft-injector')?.['webhooks'] as { clientConfig: { caBundle?: string } }[])[0]?.clientConfig.caBundle, 'Q0E=');
    }));

  it('serves core kinds: create, read, merge and strategic patches, 404 Status, delete', () =>
    withDouble(async (double) => {
      const core = double.kubeConfig().makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: 'shop', labels: { 'weft-injection': 'enabled' } } } });
      await core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'weft-root-cert' }, data: { 'root-cert.pem': 'PEM' } } });
      const patched = await core.patchNamespacedConfigMap(
        { namespace: 'shop', name: 'weft-root-cert', body: { data: { 'root-cert.pem': 'NEW' } } },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      );
      assert.equal(patched.data?.['root-cert.pem'], 'NEW');
      const namespaces = await core.listNamespace({ labelSelector: 'weft-injection=enabled' });
      assert.deepEqual(
        namespaces.items.map((n) => n.metadata?.name),
        ['shop'],
      );
      await assert.rejects(core.readNamespacedService({ namespace: 'shop', name: 'missing' }), (e) => {
        assert.deepEqual(apiFailure(e), { code: 404, reason: 'NotFound' });
        return true;
      });
      await core.deleteNamespacedConfigMap({ namespace: 'shop', name: 'weft-root-cert' });
      assert.equal(double.get('v1', 'ConfigMap', 'shop', 'weft-root-cert'), undefined);
    }));

  it('lists like the API server: current resourceVersion, built-in items without apiVersion/kind', () =>
    withDouble(async (double) => {
      double.apply(service('a'));
      double.apply({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'DestinationPolicy', metadata: { name: 'd', namespace: 'shop' }, spec: {} });
      const services = (await (await fetch(`${double.url}/api/v1/namespaces/default/services`)).json()) as { kind: string; metadata: { resourceVersion: string }; items: KubeObject[] };
      assert.equal(services.kind, 'ServiceList');
      assert.equal(services.metadata.resourceVersion, double.resourceVersion);
      assert.equal(services.items[0]?.kind, undefined);
      const policies = (await (await fetch(`${double.url}/apis/mesh.weft.dev/v1alpha1/destinationpolicies`)).json()) as { items: KubeObject[] };
      assert.equal(policies.items[0]?.kind, 'DestinationPolicy');
    }));

  it('streams synthetic ADDED events from resourceVersion 0, then bookmarks, also on /watch/ paths', () =>
    withDouble(async (double) => {
      double.apply(service('a', 80, 'shop'));
      double.apply(service('b', 80, 'other'));
      const events = await readWatch(`${double.url}/api/v1/watch/namespaces/shop/services?resourceVersion=0`, (e) => e.some((x) => x.type === 'BOOKMARK'));
      assert.deepEqual(
        events.map((e) => [e.type, e.object.metadata.name ?? '']),
        [
          ['ADDED', 'a'],
          ['BOOKMARK', ''],
        ],
      );
      assert.deepEqual(events[1]?.object, { apiVersion: 'v1', kind: 'Service', metadata: { resourceVersion: double.resourceVersion } });
    }, 50));
});
