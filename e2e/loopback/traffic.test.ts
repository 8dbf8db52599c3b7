// Traffic management through real sidecars (mTLS between them), counts asserted: retries,
// outlier ejection, weighted and header-matched routing, circuit breaking, faults, mirroring,
// consistent hashing and the retry budget.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LoopbackMesh, type MeshDocument } from '@weft/cli';
import { appStats as appStatsIn, behave as behaveIn, httpGet, httpRequest, pollUntil, sendRequests, subscribeBeforeTheyExist, temporaryDirectory, type AppStats, type SentResult } from './helpers.ts';

const API_VERSION = 'mesh.weft.dev/v1alpha1';

describe('traffic management through sidecars', () => {
  let mesh: LoopbackMesh;
  let removeDir: () => Promise<void>;

  before(async () => {
    const dir = await temporaryDirectory('traffic');
    removeDir = dir.remove;
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'client', app: false });
    for (const [name, version] of [['orders-1', 'v1'], ['orders-2', 'v1'], ['orders-3', 'v2']] as const) await mesh.addWorkload({ name, service: 'orders', version });
    await mesh.addWorkload({ name: 'shadow-1', service: 'shadow' });
    await subscribeBeforeTheyExist(mesh, 'client', ['orders:8080']);
    await configure([]);
  });

  after(async () => {
    await mesh?.stop();
    await removeDir?.();
  });

  /** Writes the workloads plus `routing`, and waits until the client's sidecar holds the marker route (if any). */
  async function configure(routing: MeshDocument[], marker?: (dump: string) => boolean): Promise<void> {
    await mesh.writeMeshFile(mesh.documents(routing));
    await pollUntil('the client sidecar to take the configuration', 15_000, async () => {
      const dump = (await httpGet(mesh.workload('client').admin, '/config_dump')).text;
      if (!dump.includes('orders-3.default')) return undefined;
      return !marker || marker(dump) ? true : undefined;
    });
  }

  const behave = (workload: string, query: string): Promise<void> => behaveIn(mesh, workload, query);
  const appStats = (workload: string): Promise<AppStats> => appStatsIn(mesh, workload);
  const send = (count: number, options: { headers?: Record<string, string>; concurrency?: number; host?: string } = {}): Promise<SentResult[]> =>
    sendRequests(mesh.workload('client').outbound, count, { headers: { host: options.host ?? 'orders:8080', ...options.headers }, concurrency: options.concurrency ?? 4 });

  const count = (results: SentResult[], predicate: (result: SentResult) => boolean): number => results.filter(predicate).length;
  const route = (http: Record<string, unknown>[]): MeshDocument => ({ apiVersion: API_VERSION, kind: 'TrafficRoute', metadata: { name: 'orders' }, spec: { hosts: ['orders'], http } });
  const policy = (spec: Record<string, unknown>): MeshDocument => ({ apiVersion: API_VERSION, kind: 'DestinationPolicy', metadata: { name: 'orders' }, spec: { host: 'orders', ...spec } });
  const subsets = [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }];
  const hasRoute = (name: string) => (dump: string) => dump.includes(`"name": "${name}"`);

  it('hides a replica answering 503 with retries {attempts: 3, retryOn: 5xx}: 1000 of 1000 succeed', async () => {
    await behave('orders-3', 'status=503');
    try {
      await configure([route([{ name: 'retrying', route: [{ destination: { host: 'orders' } }], retries: { attempts: 3, retryOn: '5xx' } }])], hasRoute('retrying'));
      const before = await appStats('orders-3');
      // Three at a time: the default retry budget always allows three retries in flight.
      const results = await send(1000, { concurrency: 3 });
      assert.equal(count(results, (r) => r.status === 200), 1000);
      const hitBadReplica = (await appStats('orders-3')).requests - before.requests;
      assert.ok(hitBadReplica > 100, `the bad replica was tried ${hitBadReplica} times and hidden`);
    } finally {
      await behave('orders-3', 'status=200');
    }
  });

  it('ejects a replica after 3 consecutive 5xx, sends it nothing while ejected, takes it back, and ejects it longer the second time', async () => {
    await configure(
      [
        route([{ name: 'outlier', route: [{ destination: { host: 'orders' } }] }]),
        policy({ trafficPolicy: { outlierDetection: { consecutive5xxErrors: 3, interval: '200ms', baseEjectionTime: '1500ms', maxEjectionPercent: 50 } } }),
      ],
      (dump) => hasRoute('outlier')(dump) && dump.includes('"baseEjectionMs": 1500'),
    );
    await behave('orders-3', 'status=503');
    try {
      const start = Date.now();
      while (Date.now() - start < 6500) await send(20, { concurrency: 2 });
      const arrivals = (await appStats('orders-3')).arrivals.filter((at) => at >= start);
      const gaps: number[] = [];
      for (let i = 1; i < arrivals.length; i++) gaps.push((arrivals[i] as number) - (arrivals[i - 1] as number));
      const ejections = gaps.filter((gap) => gap > 1000);
      assert.ok(ejections.length >= 2, `gaps over 1 s: ${JSON.stringify(ejections)}`);
      const [first, second] = ejections as [number, number];
      assert.ok(first >= 1400 && first < 2900, `first ejection lasted ${first} ms (base 1.5 s)`);
      assert.ok(second > first + 700, `second ejection (${second} ms) longer than the first (${first} ms)`);
      const clusters = JSON.parse((await httpGet(mesh.workload('client').admin, '/clusters')).text) as { clusters: { name: string; ejectionsTotal: number }[] };
      assert.ok((clusters.clusters.find((c) => c.name === 'outbound|8080||orders.default.svc.cluster.local')?.ejectionsTotal ?? 0) >= 2);
    } finally {
      await behave('orders-3', 'status=200');
    }
  });

  it('splits 90/10 within ±3 points over 2000 requests, and sends x-canary: true to v2 every time', async () => {
    await configure(
      [
        policy({ subsets }),
        route([
          { name: 'canary-header', match: [{ headers: { 'x-canary': { exact: 'true' } } }], route: [{ destination: { host: 'orders', subset: 'v2' } }] },
          { name: 'split', route: [{ destination: { host: 'orders', subset: 'v1' }, weight: 90 }, { destination: { host: 'orders', subset: 'v2' }, weight: 10 }] },
        ]),
      ],
      hasRoute('split'),
    );
    const results = await send(2000, { concurrency: 8 });
    const v2 = count(results, (r) => r.workload === 'orders-3');
    assert.equal(count(results, (r) => r.status === 200), 2000);
    assert.ok(v2 >= 140 && v2 <= 260, `v2 got ${v2} of 2000 (${(v2 / 20).toFixed(1)}%)`);
    const canary = await send(100, { headers: { 'x-canary': 'true' } });
    assert.equal(count(canary, (r) => r.workload === 'orders-3'), 100);
  });

  it('circuit breaking: maxConnections 1 and http1MaxPendingRequests 1 answer a burst with fast 503 UO, and the upstream never sees more', async () => {
    await configure(
      [
        policy({ subsets: [{ name: 'one', labels: { version: 'v2' } }], trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1 } } } }),
        route([{ name: 'breaker', route: [{ destination: { host: 'orders', subset: 'one' } }] }]),
      ],
      hasRoute('breaker'),
    );
    await behave('orders-3', 'delayMs=300');
    try {
      const before = await appStats('orders-3');
      const results = await send(12, { concurrency: 12 });
      const overflow = results.filter((r) => r.status === 503 && r.flag === 'UO');
      assert.equal(count(results, (r) => r.status === 200) + overflow.length, 12);
      assert.ok(overflow.length >= 9, `${overflow.length} of 12 overflowed`);
      for (const result of overflow) assert.ok(result.ms < 250, `an overflow took ${result.ms.toFixed(0)} ms`);
      const after = await appStats('orders-3');
      assert.ok(after.maxConcurrent <= Math.max(1, before.maxConcurrent), `the upstream saw ${after.maxConcurrent} at once`);
      assert.equal(after.requests - before.requests, count(results, (r) => r.status === 200));
    } finally {
      await behave('orders-3', 'delayMs=0');
    }
  });

  it('fault: aborts 50% ±5 points of 1000, a delay adds its delay, and a shorter timeout gives 504', async () => {
    await configure([route([{ name: 'abort', route: [{ destination: { host: 'orders' } }], fault: { abort: { httpStatus: 503, percentage: { value: 50 } } } }])], hasRoute('abort'));
    const aborted = await send(1000, { concurrency: 8 });
    const injected = count(aborted, (r) => r.status === 503 && r.flag === 'FI');
    assert.equal(injected + count(aborted, (r) => r.status === 200), 1000);
    assert.ok(injected >= 450 && injected <= 550, `${injected} of 1000 aborted`);

    await configure([route([{ name: 'delay', route: [{ destination: { host: 'orders' } }], fault: { delay: { fixedDelay: '250ms' } } }])], hasRoute('delay'));
    const delayed = await send(5, { concurrency: 1 });
    for (const result of delayed) assert.ok(result.status === 200 && result.ms >= 245, `${result.status} after ${result.ms.toFixed(0)} ms`);

    await configure([route([{ name: 'delay-timeout', route: [{ destination: { host: 'orders' } }], fault: { delay: { fixedDelay: '400ms' } }, timeout: '100ms' }])], hasRoute('delay-timeout'));
    const timedOut = await send(3, { concurrency: 1 });
    for (const result of timedOut) assert.ok(result.status === 504 && result.flag === 'UT' && result.ms < 350, `${result.status} ${result.flag ?? ''} after ${result.ms.toFixed(0)} ms`);
  });

  it('mirrors to a shadow that gets the copies as orders-shadow, and a slow or absent shadow changes nothing for the caller', async () => {
    await configure([route([{ name: 'mirrored', route: [{ destination: { host: 'orders' } }], mirror: { host: 'shadow' }, mirrorPercentage: { value: 100 } }])], hasRoute('mirrored'));
    const before = await appStats('shadow-1');
    await behave('shadow-1', 'delayMs=2000');
    const slowShadow = await send(20, { concurrency: 2 });
    assert.equal(count(slowShadow, (r) => r.status === 200), 20);
    const slowest = Math.max(...slowShadow.map((r) => r.ms));
    assert.ok(slowest < 1000, `a caller waited ${slowest.toFixed(0)} ms while the shadow takes 2 s`);
    await pollUntil('the shadow to receive the copies', 10_000, async () => ((await appStats('shadow-1')).requests - before.requests >= 20 ? true : undefined));
    assert.ok(((await appStats('shadow-1')).hosts['orders-shadow:8080'] ?? 0) >= 20);

    await mesh.workload('shadow-1').app?.stop();
    const noShadow = await send(20, { concurrency: 2 });
    assert.equal(count(noShadow, (r) => r.status === 200), 20);
  });

  it('consistent hash: a header value always lands on the same endpoint; a fourth endpoint moves about 1/4 of 1000 keys', async () => {
    const hashed = [route([{ name: 'hashed', route: [{ destination: { host: 'orders' } }] }]), policy({ trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } } } })];
    await configure(hashed, hasRoute('hashed'));
    const owners = async (): Promise<Map<string, string>> => {
      const map = new Map<string, string>();
      for (let start = 0; start < 1000; start += 50) {
        await Promise.all(
          Array.from({ length: 50 }, async (_, offset) => {
            const key = `user-${start + offset}`;
            const response = await httpRequest(mesh.workload('client').outbound, 'GET', '/', { host: 'orders:8080', 'x-user': key });
            map.set(key, (JSON.parse(response.text) as { workload: string }).workload);
          }),
        );
      }
      return map;
    };
    const first = await owners();
    const again = await owners();
    assert.deepEqual([...again].filter(([key, owner]) => first.get(key) !== owner), [], 'every key lands where it did');

    await mesh.addWorkload({ name: 'orders-4', service: 'orders', version: 'v1' }, { ready: false });
    await mesh.writeMeshFile(mesh.documents(hashed));
    await mesh.sidecarServing('orders-4');
    mesh.setReady('orders-4');
    await configure(hashed, (dump) => (dump.match(/"workload": "orders-4\.default"/g)?.length ?? 0) > 0 && !dump.includes('"ready": false'));
    const grown = await owners();
    const moved = [...grown].filter(([key, owner]) => first.get(key) !== owner);
    assert.ok(moved.every(([, owner]) => owner === 'orders-4'), 'keys move only to the new endpoint');
    assert.ok(moved.length > 150 && moved.length < 350, `${moved.length} of 1000 keys moved (ideal 250)`);
  });

  it('retry budget: when every replica fails, retries stay within the budget, counted', async () => {
    for (const name of mesh.workloads.keys()) if (name.startsWith('orders-')) await behave(name, 'status=503');
    try {
      await configure(
        [route([{ name: 'budgeted', route: [{ destination: { host: 'orders' } }], retries: { attempts: 3, retryOn: '5xx', backoff: { baseInterval: '50ms', maxInterval: '50ms' } } }])],
        hasRoute('budgeted'),
      );
      const before = await Promise.all([...mesh.workloads.keys()].filter((name) => name.startsWith('orders-')).map(appStats));
      const results = await send(60, { concurrency: 30 });
      assert.equal(count(results, (r) => r.status === 503 && r.flag === undefined), 60, 'the upstream 503 is passed on');
      const clusters = JSON.parse((await httpGet(mesh.workload('client').admin, '/clusters')).text) as { clusters: { name: string; retries: { started: number; refusedByBudget: number } }[] };
      const { started, refusedByBudget } = clusters.clusters.find((c) => c.name === 'outbound|8080||orders.default.svc.cluster.local')?.retries ?? { started: 0, refusedByBudget: 0 };
      assert.ok(refusedByBudget > 0, 'the budget refused retries');
      assert.ok(started < 60 * 3, `${started} retries started, fewer than the 180 an unbudgeted policy would make`);
      const after = await Promise.all([...mesh.workloads.keys()].filter((name) => name.startsWith('orders-')).map(appStats));
      const attempts = after.reduce((sum, stats, index) => sum + stats.requests - (before[index]?.requests ?? 0), 0);
      assert.ok(attempts <= 60 + started, `${attempts} attempts reached the apps`);
    } finally {
      for (const name of mesh.workloads.keys()) if (name.startsWith('orders-')) await behave(name, 'status=200');
    }
  });
});
