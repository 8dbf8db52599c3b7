// Hostile configuration from a control plane: seeded random damage to valid resources of every
// type (random bytes, flipped bits, truncation, wrong type URLs) and values no valid control
// plane sends (timeouts beyond what a timer can hold, NaN shares, empty and duplicate names,
// broken or huge regexes). Property: ConfigStore.apply accepts, or throws an InvalidResourceError
// naming the resource — which the AdsClient NACKs — and then nothing changed. Replay a failure
// with FUZZ_SEED=<seed>.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceType, resourceKindsInPushOrder, type ResourceKind, type weft } from '@weft/proto';
import { fuzzSeed, SeededRandom } from '@weft/runtime';
import { ConfigStore } from './config-store.ts';
import { InvalidResourceError } from './resources/invalid-resource.ts';

type Resource = weft.discovery.v1.Resource.$Properties;

const CASES = 3000;
const MAX_MESSAGE_CHARS = 1000;
const MAX_TIMER_MS = 2 ** 31 - 1;
const CLUSTER = 'outbound|8080|v1|orders.default.svc.cluster.local';
const ROUTE = 'orders.default.svc.cluster.local:8080';

/** One valid resource of each type, as a control plane sends them. */
const VALID = {
  trustBundle: { name: 'cluster.local', trustDomain: 'cluster.local', rootCertificatesPem: ['-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'] },
  cluster: {
    name: CLUSTER, service: 'orders.default.svc.cluster.local', port: 8080, subset: 'v1', lbPolicy: 2, peerIdentities: ['spiffe://cluster.local/ns/default/sa/orders'],
    connectionPool: { maxConnections: 10, connectTimeoutMs: 2000, idleTimeoutMs: 30_000 },
    outlierDetection: { consecutive_5xx: 3, intervalMs: 1000, baseEjectionTimeMs: 15_000, maxEjectionPercent: 50 },
    retryBudget: { budgetPercent: 25, minRetryConcurrency: 5 },
  },
  endpoints: { clusterName: CLUSTER, endpoints: [{ address: '10.0.0.11', port: 9080, weight: 1, ready: true, workload: 'orders-v1.default', proxyAddress: '127.0.0.1:17001', mtls: true, labels: { version: 'v1' } }] },
  accessPolicy: { name: 'default/orders-readers', action: 1, rules: [{ from: [{ principals: ['cluster.local/ns/default/sa/frontend'] }], to: [{ methods: ['GET'], paths: ['/orders/*'], ports: [8080] }] }] },
  listener: { name: 'inbound|9080', port: 9080, protocol: 1, tlsMode: 3 },
  route: {
    name: ROUTE, service: 'orders.default.svc.cluster.local', port: 8080, domains: ['orders', 'orders.default.svc.cluster.local:8080'],
    routes: [{
      name: 'search', match: { path: { prefix: '/search' }, headers: [{ name: 'x-beta', value: { regex: '[0-9]+' } }], queryParams: [{ name: 'q', present: true }] },
      clusters: [{ cluster: CLUSTER, weight: 90 }, { cluster: `${CLUSTER}-v2`, weight: 10 }], timeoutMs: 1500,
      retries: { attempts: 2, perTryTimeoutMs: 500, retryOn: ['5xx'], backoffBaseMs: 10, backoffMaxMs: 100 },
      fault: { delay: { fixedDelayMs: 100, percentage: 10 }, abort: { httpStatus: 503, percentage: 1 } },
      mirror: { cluster: CLUSTER, percentage: 25 }, requestHeaders: { set: { 'x-route': 'search' } },
    }],
  },
};

const nameOf = (kind: ResourceKind, message: Record<string, unknown>): string => String(kind === 'endpoints' ? message.clusterName : message.name);

function resource(kind: ResourceKind, message: Record<string, unknown>, version = '1'): Resource {
  return { name: nameOf(kind, message), version, resource: { type_url: ResourceType[kind].typeUrl, value: ResourceType[kind].encode(message) } };
}

/** Values no valid control plane sends, at places they have broken proxies. */
function semanticDamage(kind: ResourceKind, random: SeededRandom): { message: Record<string, unknown>; what: string } {
  const { trustBundle, cluster, endpoints, accessPolicy, listener, route } = structuredClone(VALID);
  const [endpoint] = endpoints.endpoints as [(typeof endpoints.endpoints)[number]];
  const [rule] = route.routes as [(typeof route.routes)[number]];
  const [rule0] = accessPolicy.rules as [(typeof accessPolicy.rules)[number]];
  const huge = random.pick([MAX_TIMER_MS + 1, 2 ** 32 - 1]);
  const edits: Record<ResourceKind, [string, () => void][]> = {
    trustBundle: [['a root that is no certificate', () => (trustBundle.rootCertificatesPem = ['hello'])]],
    cluster: [
      ['connect timeout beyond a timer', () => (cluster.connectionPool.connectTimeoutMs = huge)],
      ['idle timeout beyond a timer', () => (cluster.connectionPool.idleTimeoutMs = huge)],
      ['outlier interval beyond a timer', () => (cluster.outlierDetection.intervalMs = huge)],
      ['ejection time beyond a timer', () => (cluster.outlierDetection.baseEjectionTimeMs = huge)],
      ['ejection percent above 100', () => (cluster.outlierDetection.maxEjectionPercent = 101 + random.int(1000))],
      ['retry budget NaN', () => (cluster.retryBudget.budgetPercent = NaN)],
      ['retry budget negative', () => (cluster.retryBudget.budgetPercent = -5)],
      ['retry budget above 100', () => (cluster.retryBudget.budgetPercent = 1e300)],
      ['unknown LB policy', () => (cluster.lbPolicy = 99)],
      ['no service', () => (cluster.service = '')],
    ],
    endpoints: [
      ['address not an IP', () => (endpoint.address = 'orders')],
      ['port 0', () => (endpoint.port = 0)],
      ['port above 65535', () => (endpoint.port = 70_000)],
      ['proxy address without port', () => (endpoint.proxyAddress = '127.0.0.1')],
    ],
    accessPolicy: [
      ['unknown action', () => (accessPolicy.action = 7)],
      ['port 0', () => ((rule0.to[0] as { ports: number[] }).ports = [0])],
    ],
    listener: [
      ['port 0', () => (listener.port = 0)],
      ['unknown TLS mode', () => (listener.tlsMode = 42)],
    ],
    route: [
      ['weights not summing to 100', () => ((rule.clusters[1] as { weight: number }).weight = 11)],
      ['weights overflowing', () => (rule.clusters = [{ cluster: 'a', weight: 2 ** 32 - 1 }, { cluster: 'b', weight: 101 }])],
      ['empty cluster name', () => ((rule.clusters[0] as { cluster: string }).cluster = '')],
      ['route timeout beyond a timer', () => (rule.timeoutMs = huge)],
      ['per-try timeout beyond a timer', () => (rule.retries.perTryTimeoutMs = huge)],
      ['backoff beyond a timer', () => (rule.retries.backoffMaxMs = huge)],
      ['fault delay beyond a timer', () => (rule.fault.delay.fixedDelayMs = huge)],
      ['fault percentage NaN', () => (rule.fault.abort.percentage = NaN)],
      ['mirror percentage negative', () => (rule.mirror.percentage = -1)],
      ['regex that does not compile', () => ((rule.match.headers[0] as { value: unknown }).value = { regex: '(' })],
      ['huge regex that does not compile', () => ((rule.match as { path: unknown }).path = { regex: `(${'a'.repeat(50_000)}` })],
      ['upper-case header name', () => ((rule.match.headers[0] as { name: string }).name = 'X-Beta')],
      ['no domains', () => (route.domains = [])],
      ['unknown retry condition', () => (rule.retries.retryOn = ['sometimes'])],
    ],
  };
  const [what, edit] = random.pick(edits[kind]);
  edit();
  return { message: { trustBundle, cluster, endpoints, accessPolicy, listener, route }[kind], what };
}

/** A damaged resource of `kind`: bytes, type URL, or a value no control plane sends. */
function hostileResource(kind: ResourceKind, random: SeededRandom): { resource: Resource; what: string } {
  const valid = resource(kind, VALID[kind], String(random.int(1e9)));
  const bytes = Buffer.from(valid.resource?.value ?? []);
  switch (random.int(6)) {
    case 0: {
      const noise = Buffer.alloc(random.int(200));
      for (let i = 0; i < noise.length; i++) noise[i] = random.int(256);
      return { resource: { ...valid, resource: { type_url: ResourceType[kind].typeUrl, value: noise } }, what: `${noise.length} random bytes` };
    }
    case 1: {
      const count = 1 + random.int(3);
      for (let i = 0; i < count; i++) {
        const at = random.int(bytes.length);
        bytes[at] = (bytes[at] as number) ^ (1 << random.int(8));
      }
      return { resource: { ...valid, resource: { type_url: ResourceType[kind].typeUrl, value: bytes } }, what: `${count} bit(s) flipped` };
    }
    case 2: {
      const end = random.int(bytes.length);
      return { resource: { ...valid, resource: { type_url: ResourceType[kind].typeUrl, value: bytes.subarray(0, end) } }, what: `truncated at ${end}` };
    }
    case 3: {
      const typeUrl = random.pick([ResourceType[random.pick(resourceKindsInPushOrder)].typeUrl, '', 'type.googleapis.com/envoy.config.cluster.v3.Cluster', `${ResourceType[kind].typeUrl} `]);
      return { resource: { ...valid, resource: { type_url: typeUrl, value: bytes } }, what: `type URL "${typeUrl}"` };
    }
    case 4:
      return random.chance(0.5) ? { resource: { ...valid, name: '' }, what: 'no name' } : { resource: { ...valid, name: `${valid.name}x` }, what: 'named otherwise inside' };
    default: {
      const { message, what } = semanticDamage(kind, random);
      return { resource: resource(kind, message, String(random.int(1e9))), what };
    }
  }
}

describe('ConfigStore fuzz', () => {
  it('accepts the valid resource of every type, so every refusal below is caused by its damage', () => {
    const store = new ConfigStore();
    for (const kind of resourceKindsInPushOrder) store.apply(kind, ResourceType[kind].typeUrl, 'v1', [resource(kind, VALID[kind])]);
    assert.equal(store.complete, true);
  });

  it(`${CASES} damaged responses: accepted, or refused with an InvalidResourceError naming the resource and nothing changed`, () => {
    const seed = fuzzSeed(0x5eed_0005);
    const random = new SeededRandom(seed);
    const store = new ConfigStore();
    for (const kind of resourceKindsInPushOrder) store.apply(kind, ResourceType[kind].typeUrl, 'good', [resource(kind, VALID[kind])]);
    let refused = 0;
    for (let index = 0; index < CASES; index++) {
      const kind = random.pick(resourceKindsInPushOrder);
      const { resource: damaged, what } = hostileResource(kind, random);
      const resources = random.chance(0.2) ? [damaged, damaged] : [resource(kind, VALID[kind], 'other'), damaged].slice(random.int(2));
      const context = `seed ${seed} case ${index} (${kind}: ${what}${resources.length === 2 && resources[0] === damaged ? ', twice' : ''})`;
      const before = store.state(kind);
      try {
        store.apply(kind, ResourceType[kind].typeUrl, `v${index}`, resources);
      } catch (error) {
        assert.ok(error instanceof InvalidResourceError, `${context}: threw ${(error as Error).stack ?? String(error)}`);
        assert.ok(error.message.startsWith(`${damaged.name || '(unnamed)'}`), `${context}: does not name the resource: ${error.message.slice(0, 200)}`);
        assert.ok(error.message.length <= MAX_MESSAGE_CHARS, `${context}: ${error.message.length} characters: ${error.message.slice(0, 200)}…`);
        assert.equal(store.state(kind), before, `${context}: the refused response changed the store`);
        refused++;
        continue;
      }
      // Accepted: it must be something the proxy can run — no timer it cannot hold, no share outside 0..100.
      assert.ok(!/beyond a timer|NaN|negative|above 100|does not compile|not summing|overflowing/.test(what), `${context}: accepted`);
      store.apply(kind, ResourceType[kind].typeUrl, 'good', [resource(kind, VALID[kind])]);
    }
    assert.ok(refused > CASES / 2, `only ${refused} of ${CASES} damaged responses were refused`);
  });
});
