// Upstream faults through real sidecars (mTLS between them): an app that drops the connection
// after reading a request, an app that never answers, and a storm against ports that refuse.
// What is retried is what retryOn says, whatever the method (Envoy's rule); a failure that is
// not retried reaches the caller as a clean 503 with its response flag and a one-line body.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LoopbackMesh, type MeshDocument } from '@weft/cli';
import { sidecarResources, type SidecarResources } from '../../bench/soak/sidecar-resources.ts';
import { appStats as appStatsIn, behave as behaveIn, httpGet, pollUntil, sendRequests, subscribeBeforeTheyExist, temporaryDirectory, type AppStats, type SentResult } from './helpers.ts';

const API_VERSION = 'mesh.weft.dev/v1alpha1';
const ORDERS_CLUSTER = 'outbound|8080||orders.default.svc.cluster.local';
const GONE_CLUSTER = 'outbound|8080||gone.default.svc.cluster.local';

interface ClusterStatus {
  readonly name: string;
  readonly retries: { readonly started: number };
  readonly ejectionsTotal: number;
}

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('upstream faults through sidecars', () => {
  let mesh: LoopbackMesh;
  let removeDir: () => Promise<void>;
  /** Sidecar-less endpoints of the service "gone", on ports that refuse. */
  let gone: MeshDocument[];

  before(async () => {
    const dir = await temporaryDirectory('faults');
    removeDir = dir.remove;
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'client', app: false });
    for (const name of ['orders-1', 'orders-2']) await mesh.addWorkload({ name, service: 'orders' });
    gone = await Promise.all(
      ['gone-1', 'gone-2', 'gone-3'].map(async (name) => ({
        apiVersion: API_VERSION,
        kind: 'Workload',
        metadata: { name, namespace: 'default', labels: { app: 'gone', version: 'v1' } },
        spec: { service: 'gone', address: '127.0.0.1', ports: [{ name: 'http', port: 8080, targetPort: await closedPort(), protocol: 'HTTP' }], serviceAccount: 'gone' },
      })),
    );
    await subscribeBeforeTheyExist(mesh, 'client', ['orders:8080', 'gone:8080']);
  });

  after(async () => {
    await mesh?.stop();
    await removeDir?.();
  });

  /** Writes the workloads plus `routing`, and waits until the client's sidecar holds the marker. */
  async function configure(routing: MeshDocument[], marker: string): Promise<void> {
    await mesh.writeMeshFile(mesh.documents([...gone, ...routing]));
    await pollUntil('the client sidecar to take the configuration', 15_000, async () => {
      const dump = (await httpGet(mesh.workload('client').admin, '/config_dump')).text;
      return dump.includes('orders-2.default') && dump.includes(marker) ? true : undefined;
    });
  }

  const behave = (workload: string, query: string): Promise<void> => behaveIn(mesh, workload, query);
  const appStats = (workload: string): Promise<AppStats> => appStatsIn(mesh, workload);

  async function cluster(name: string): Promise<ClusterStatus> {
    const { clusters } = JSON.parse((await httpGet(mesh.workload('client').admin, '/clusters')).text) as { clusters: ClusterStatus[] };
    const found = clusters.find((candidate) => candidate.name === name);
    assert.ok(found, `cluster ${name} on the client sidecar`);
    return found;
  }

  const send = (count: number, options: { method?: string; host?: string; concurrency?: number } = {}): Promise<SentResult[]> =>
    sendRequests(mesh.workload('client').outbound, count, { method: options.method, headers: { host: options.host ?? 'orders:8080' }, concurrency: options.concurrency });

  const route = (http: Record<string, unknown>[]): MeshDocument => ({ apiVersion: API_VERSION, kind: 'TrafficRoute', metadata: { name: 'orders' }, spec: { hosts: ['orders'], http } });
  const totalMethod = async (method: string): Promise<number> => (await Promise.all(['orders-1', 'orders-2'].map(appStats))).reduce((sum, stats) => sum + (stats.methods[method] ?? 0), 0);

  it('an upstream that drops the connection mid-request: a GET whose route retries on reset is retried on the other endpoint; a POST whose route does not is answered 503 UC once', async () => {
    await configure(
      [
        route([
          { name: 'reads', match: [{ method: { exact: 'GET' } }], route: [{ destination: { host: 'orders' } }], retries: { attempts: 2, retryOn: 'reset' } },
          // Writes retry only what cannot have reached the application.
          { name: 'writes', route: [{ destination: { host: 'orders' } }], retries: { attempts: 2, retryOn: 'connect-failure,refused-stream' } },
        ]),
      ],
      '"name": "writes"',
    );
    await behave('orders-1', 'reset=1');
    try {
      const resetBefore = await appStats('orders-1');
      const gets = await send(20);
      assert.deepEqual(gets.filter((r) => r.status !== 200 || r.workload !== 'orders-2'), [], 'every GET answered by orders-2');
      const resetGets = ((await appStats('orders-1')).methods.GET ?? 0) - (resetBefore.methods.GET ?? 0);
      assert.ok(resetGets >= 5, `orders-1 dropped ${resetGets} GETs, each retried`);

      await behave('orders-2', 'reset=1');
      const postsBefore = await totalMethod('POST');
      const retriesBefore = (await cluster(ORDERS_CLUSTER)).retries.started;
      const posts = await send(6, { method: 'POST' });
      for (const result of posts) {
        assert.equal(result.status, 503, result.body);
        assert.equal(result.flag, 'UC');
        assert.match(result.body, /^weft: .+\n$/);
      }
      assert.equal((await totalMethod('POST')) - postsBefore, 6, 'each POST reached an application exactly once');
      assert.equal((await cluster(ORDERS_CLUSTER)).retries.started, retriesBefore, 'no retry started');
    } finally {
      await behave('orders-1', 'reset=0');
      await behave('orders-2', 'reset=0');
    }
  });

  it('an upstream that accepts and never answers: the route timeout answers 504 UT; a per-try timeout with retries moves to the other endpoint', async () => {
    await configure([route([{ name: 'deadline', route: [{ destination: { host: 'orders' } }], timeout: '500ms' }])], '"name": "deadline"');
    await behave('orders-1', 'delayMs=600000');
    try {
      const timed = await send(6);
      const timedOut = timed.filter((r) => r.status === 504);
      assert.ok(timedOut.length >= 2, `${timedOut.length} of 6 timed out`);
      for (const result of timedOut) {
        assert.equal(result.flag, 'UT');
        assert.ok(result.ms >= 450 && result.ms < 5000, `504 after ${result.ms.toFixed(0)} ms (timeout 500 ms)`);
      }
      assert.ok(timed.every((r) => r.status === 504 || (r.status === 200 && r.workload === 'orders-2')));

      await configure(
        [route([{ name: 'per-try', route: [{ destination: { host: 'orders' } }], timeout: '10s', retries: { attempts: 2, perTryTimeout: '300ms', retryOn: 'gateway-error' } }])],
        '"name": "per-try"',
      );
      const retried = await send(8);
      assert.deepEqual(retried.filter((r) => r.status !== 200 || r.workload !== 'orders-2'), [], 'every request answered by orders-2');
      const slow = retried.filter((r) => r.ms >= 290);
      assert.ok(slow.length >= 2, `${slow.length} of 8 waited out a per-try timeout first`);
      for (const result of slow) assert.ok(result.ms < 5000, `answered after ${result.ms.toFixed(0)} ms`);
    } finally {
      await behave('orders-1', 'delayMs=0');
    }
  });

  it('a connection-refused storm: endpoints are ejected, later requests fail at once with 503 UH, and the sidecar holds no more descriptors, handles or memory afterwards', async (t) => {
    await configure(
      [
        { apiVersion: API_VERSION, kind: 'TrafficRoute', metadata: { name: 'gone' }, spec: { hosts: ['gone'], http: [{ name: 'to-gone', route: [{ destination: { host: 'gone' } }] }] } },
        {
          apiVersion: API_VERSION,
          kind: 'DestinationPolicy',
          metadata: { name: 'gone' },
          spec: { host: 'gone', trafficPolicy: { outlierDetection: { consecutiveGatewayErrors: 2, interval: '100ms', baseEjectionTime: '300ms', maxEjectionPercent: 100 } } },
        },
      ],
      '"name": "to-gone"',
    );
    const client = mesh.workload('client');
    const sample = (): Promise<SidecarResources> => sidecarResources(client.sidecar.child.pid as number, client.stats);
    // A first storm warms the paths up (code compiled, pools and buffers allocated).
    await send(300, { host: 'gone:8080', concurrency: 20 });
    const idle = await sample();

    const storm = await send(2000, { host: 'gone:8080', concurrency: 20 });
    const byFlag = Map.groupBy(storm, (r) => `${r.status} ${r.flag ?? ''}`);
    assert.deepEqual([...byFlag.keys()].filter((key) => key !== '503 UF' && key !== '503 UH'), [], 'only refused (UF) and ejected (UH)');
    const fast = byFlag.get('503 UH') ?? [];
    assert.ok(fast.length >= 1000, `${fast.length} of 2000 failed fast without a connection attempt`);
    for (const result of fast) assert.match(result.body, /^weft: no healthy endpoint/);
    const sortedMs = fast.map((r) => r.ms).sort((a, b) => a - b);
    assert.ok((sortedMs[Math.floor(sortedMs.length / 2)] ?? 0) < 250, `median of the fast failures ${sortedMs[Math.floor(sortedMs.length / 2)]?.toFixed(1)} ms`);
    assert.ok((await cluster(GONE_CLUSTER)).ejectionsTotal >= 3, 'every endpoint ejected');

    // Descriptors are freed as connections close: give it a moment, then compare.
    const settled = await pollUntil('the sidecar to hold its idle descriptors and handles again', 10_000, async () => {
      const now = await sample();
      return now.fds <= idle.fds + 10 && now.handles <= idle.handles + 10 ? now : undefined;
    });
    t.diagnostic(`refused ${byFlag.get('503 UF')?.length ?? 0}, failed fast ${fast.length}; before/after: fds ${idle.fds}/${settled.fds}, handles ${idle.handles}/${settled.handles}, RSS ${idle.rssMb.toFixed(1)}/${settled.rssMb.toFixed(1)} MB`);
    assert.ok(settled.rssMb < idle.rssMb + 40, `RSS ${idle.rssMb.toFixed(1)} MB before, ${settled.rssMb.toFixed(1)} MB after 2000 requests`);
  });
});
