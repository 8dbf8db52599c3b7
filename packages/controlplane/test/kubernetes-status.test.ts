// CR status written by the control plane (Accepted, reason, message, observedGeneration), Lease
// leader election (only the leader writes status), and TokenReview for the CA — all against the
// API test double with the real @kubernetes/client-node.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger, pollUntil } from '@weft/runtime';
import { TokenReviewAuthenticator } from '../src/ca/token-review-authenticator.ts';
import { LeaderElection } from '../src/kubernetes/leader-election.ts';
import { StatusWriter, type Condition } from '../src/kubernetes/status-writer.ts';
import { KubernetesRegistry } from '../src/registry/kubernetes/kubernetes-registry.ts';
import { KubeApiDouble, type KubeObject } from './kube-api-double.ts';
import { customResource, MESH_API, ordersCluster } from './kube-objects.ts';

const log = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
const ORDERS = 'orders.default.svc.cluster.local';

const SUBSETS = { host: 'orders', subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }] };
const CANARY = { hosts: ['orders'], http: [{ route: [{ destination: { host: 'orders', subset: 'v1' }, weight: 90 }, { destination: { host: 'orders', subset: 'v2' }, weight: 10 }] }] };

function accepted(object: KubeObject | undefined): Condition | undefined {
  return ((object?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((condition) => condition.type === 'Accepted');
}

describe('CR status', () => {
  let api: KubeApiDouble;
  let registry: KubernetesRegistry;
  let writer: StatusWriter;

  before(async () => {
    api = await KubeApiDouble.start({ bookmarkIntervalMs: 200 });
    for (const object of ordersCluster()) api.apply(object);
    api.apply(customResource('DestinationPolicy', 'orders', SUBSETS));
    registry = new KubernetesRegistry({ kubeConfig: api.kubeConfig(), log, backoff: { baseMs: 20, maxMs: 200 }, settleMs: 5 });
    writer = new StatusWriter({ kubeConfig: api.kubeConfig(), log, enabled: () => true });
    registry.onJudged((resources) => writer.reconcile(resources));
    await registry.start();
  });

  after(async () => {
    registry?.stop();
    await api?.stop();
  });

  /** Applies a TrafficRoute and waits for its Accepted condition to reflect its generation. */
  async function applyRoute(name: string, spec: unknown): Promise<{ condition: Condition; object: KubeObject }> {
    const applied = api.apply(customResource('TrafficRoute', name, spec));
    const generation = (applied.metadata as { generation?: number }).generation;
    return pollUntil(`status of TrafficRoute ${name}`, 10_000, () => {
      const object = api.get(MESH_API, 'TrafficRoute', 'default', name);
      const condition = accepted(object);
      return object && condition && condition.observedGeneration === generation ? { condition, object } : undefined;
    });
  }

  it('a valid TrafficRoute: Accepted=True with observedGeneration, and applied', async () => {
    const { condition, object } = await applyRoute('canary', CANARY);
    assert.equal(condition.status, 'True');
    assert.equal(condition.reason, 'Accepted');
    assert.equal((object.status as { observedGeneration?: number }).observedGeneration, (object.metadata as { generation?: number }).generation);
    assert.ok(registry.current().trafficRoutes.has(ORDERS));
    assert.match(condition.lastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  const invalid: [string, unknown, RegExp][] = [
    ['bad-regex', { hosts: ['frontend'], http: [{ match: [{ uri: { regex: '([' } }], route: [{ destination: { host: 'frontend' } }] }] }, /^spec\.http\[0\]\.match\[0\]\.uri\.regex: invalid regular expression/],
    ['bad-subset', { hosts: ['frontend'], http: [{ route: [{ destination: { host: 'orders', subset: 'v3' } }] }] }, /^spec\.http\[0\]\.route\[0\]\.destination\.subset: subset "v3" is not defined by any DestinationPolicy for orders\.default\.svc\.cluster\.local$/],
    ['bad-weights', { hosts: ['frontend'], http: [{ route: [{ destination: { host: 'orders', subset: 'v1' }, weight: 60 }, { destination: { host: 'orders', subset: 'v2' }, weight: 30 }] }] }, /weights must sum to 100, got 90/],
    ['bad-host', { hosts: ['nope'], http: [{ route: [{ destination: { host: 'orders' } }] }] }, /^spec\.hosts\[0\]: unknown host "nope" \(no service nope\.default\.svc\.cluster\.local\)$/],
  ];
  for (const [name, spec, message] of invalid) {
    it(`${name}: Accepted=False with a precise message, not applied, the rest of the mesh unaffected`, async () => {
      const { condition } = await applyRoute(name, spec);
      assert.equal(condition.status, 'False');
      assert.equal(condition.reason, 'Invalid');
      assert.match(condition.message, message);
      const model = registry.current();
      assert.equal(model.trafficRoutes.has('frontend.default.svc.cluster.local'), false);
      assert.ok(model.trafficRoutes.has(ORDERS), 'the valid canary route is still applied');
      assert.ok(registry.status().rejected.some((line) => line.startsWith(`TrafficRoute default/${name}: `)));
    });
  }

  it('an update that breaks an accepted resource is refused, and the accepted generation stays in force', async () => {
    const broken = { hosts: ['orders'], http: [{ route: [{ destination: { host: 'orders', subset: 'v1' }, weight: 50 }, { destination: { host: 'orders', subset: 'v2' }, weight: 10 }] }] };
    const { condition, object } = await applyRoute('canary', broken);
    assert.equal(condition.status, 'False');
    assert.match(condition.message, /weights must sum to 100, got 60; generation 1, accepted earlier, stays in force$/);
    assert.equal((object.metadata as { generation?: number }).generation, 2);
    const rules = registry.current().trafficRoutes.get(ORDERS)?.rules;
    assert.deepEqual(rules?.[0]?.destinations.map((destination) => destination.weight), [90, 10]);
    // Fixed: accepted again, and the transition is recorded.
    const fixed = await applyRoute('canary', CANARY);
    assert.equal(fixed.condition.status, 'True');
  });

  it('writes only when the status changes: a resync of an unchanged mesh writes nothing', async () => {
    await writer.idle();
    await pollUntil('status writes to settle', 5000, async () => {
      const before = api.statusWrites.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
      return api.statusWrites.length === before ? true : undefined;
    });
    const settled = api.statusWrites.length;
    writer.reconcile(registry.judgedResources());
    await writer.idle();
    assert.equal(api.statusWrites.length, settled);
  });
});

describe('leader election over a Lease', () => {
  let api: KubeApiDouble;
  const electors: LeaderElection[] = [];

  before(async () => {
    api = await KubeApiDouble.start();
  });

  after(async () => {
    for (const elector of electors) await elector.stop();
    await api?.stop();
  });

  function elector(identity: string): LeaderElection {
    const created = new LeaderElection({ kubeConfig: api.kubeConfig(), namespace: 'weft-system', name: 'weft-controlplane', identity, log, leaseMs: 600, retryMs: 50 });
    electors.push(created);
    return created;
  }

  it('elects exactly one of two replicas; the other takes over when the leader stops', async () => {
    const a = elector('replica-a');
    const b = elector('replica-b');
    a.start();
    b.start();
    const first = await pollUntil('a leader', 5000, () => (a.isLeader() ? a : b.isLeader() ? b : undefined));
    const second = first === a ? b : a;
    // Several renewal rounds later there is still exactly one.
    await pollUntil('ten renewals', 5000, () => (api.requests.filter((request) => request.method === 'PUT' && request.path.includes('/leases/')).length >= 10 ? true : undefined));
    assert.equal(a.isLeader() !== b.isLeader(), true, 'exactly one leader');
    await first.stop();
    await pollUntil('the other replica to lead', 5000, () => (second.isLeader() ? true : undefined));
    const lease = api.get('coordination.k8s.io/v1', 'Lease', 'weft-system', 'weft-controlplane') as unknown as { spec: { holderIdentity: string; leaseTransitions: number } };
    assert.equal(lease.spec.holderIdentity, second === a ? 'replica-a' : 'replica-b');
    assert.ok(lease.spec.leaseTransitions >= 1);
  });

  it('a leader that cannot renew steps down once its lease has run out', async () => {
    const leader = electors.find((candidate) => candidate.isLeader());
    assert.ok(leader);
    await api.stop();
    try {
      await pollUntil('the leader to step down', 5000, () => (leader.isLeader() ? undefined : true));
    } finally {
      await api.restart();
    }
  });

  it('a writer that is not enabled (not the leader) writes no status', async () => {
    api.apply(customResource('TrafficRoute', 'quiet', { hosts: ['x'], http: [] }));
    const writer = new StatusWriter({ kubeConfig: api.kubeConfig(), log, enabled: () => false });
    const object = api.get(MESH_API, 'TrafficRoute', 'default', 'quiet') as KubeObject;
    writer.reconcile([{ kind: 'TrafficRoute', object, verdict: { accepted: false, reason: 'Invalid', message: 'no', generation: 1 } }]);
    await writer.idle();
    assert.equal(api.statusWrites.length, 0);
    assert.equal(accepted(api.get(MESH_API, 'TrafficRoute', 'default', 'quiet')), undefined);
  });
});

describe('TokenReview authenticator', () => {
  let api: KubeApiDouble;
  let authenticator: TokenReviewAuthenticator;

  before(async () => {
    api = await KubeApiDouble.start();
    authenticator = new TokenReviewAuthenticator(api.kubeConfig());
    api.registerToken('right-audience', { namespace: 'shop', serviceAccount: 'orders', audiences: ['weft-ca'] });
    api.registerToken('api-audience', { namespace: 'shop', serviceAccount: 'orders', audiences: ['https://kubernetes.default.svc.cluster.local'] });
    api.registerToken('expired', { namespace: 'shop', serviceAccount: 'orders', audiences: ['weft-ca'], expired: true });
  });

  after(() => api?.stop());

  it('accepts a token for audience weft-ca as the reviewed namespace and service account', async () => {
    assert.deepEqual(await authenticator.authenticate('right-audience'), { namespace: 'shop', serviceAccount: 'orders' });
  });

  it('refuses a token for another audience, an expired token and an unknown one', async () => {
    assert.equal(await authenticator.authenticate('api-audience'), undefined);
    assert.equal(await authenticator.authenticate('expired'), undefined);
    assert.equal(await authenticator.authenticate('made-up'), undefined);
  });

  it('fails (rather than refusing the caller) when the API server cannot answer', async () => {
    api.failNext({ path: /tokenreviews$/ }, 503);
    await assert.rejects(authenticator.authenticate('right-audience'), /TokenReview failed: HTTP 503/);
  });
});
