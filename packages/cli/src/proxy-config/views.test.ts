import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClusterConfig, IdentityStatus, RouteMatchDescription } from '@weft/proxy';
import type { ConfigDump } from './admin-json.ts';
import { clustersTable, describeMatch, endpointsTable, routesTable, secretsTable } from './views.ts';

const ORDERS = 'orders.default.svc.cluster.local:8080';
const V1 = 'outbound|8080|v1|orders.default.svc.cluster.local';
const V2 = 'outbound|8080|v2|orders.default.svc.cluster.local';

function route(name: string, match: RouteMatchDescription, clusters: { cluster: string; weight: number }[]) {
  return { name, match, clusters, timeoutMs: 0, retries: undefined, fault: undefined, mirror: undefined, requestHeaders: undefined, responseHeaders: undefined };
}

function cluster(name: string, overrides: Partial<ClusterConfig> = {}): ClusterConfig {
  return {
    name,
    service: 'orders.default.svc.cluster.local',
    port: 8080,
    subset: 'v1',
    protocol: 'HTTP',
    lbPolicy: 'ROUND_ROBIN',
    peerIdentities: [],
    limits: { maxConnections: undefined, connectTimeoutMs: 5000, maxPendingRequests: undefined, maxRequests: undefined, maxRequestsPerConnection: undefined, maxRetries: undefined, idleTimeoutMs: 60_000 },
    outlier: undefined,
    consistentHash: undefined,
    retryBudget: { budgetPercent: 20, minRetryConcurrency: 3 },
    ...overrides,
  };
}

const DUMP: ConfigDump = {
  node: { workload: 'frontend', namespace: 'default' },
  certificate: null,
  configs: {
    route: {
      version: 'r1',
      resources: {
        [ORDERS]: {
          version: 'r1',
          config: {
            name: ORDERS,
            service: 'orders.default.svc.cluster.local',
            port: 8080,
            protocol: 'HTTP',
            domains: ['orders.default.svc.cluster.local', 'orders'],
            routes: [
              route('beta', { headers: [{ name: 'x-beta', value: { exact: '1' } }], queryParams: [] }, [{ cluster: V2, weight: 100 }]),
              route('default', { headers: [], queryParams: [] }, [
                { cluster: V1, weight: 90 },
                { cluster: V2, weight: 10 },
              ]),
            ],
          },
        },
      },
    },
    cluster: {
      version: 'c1',
      resources: {
        [V1]: {
          version: 'c1',
          config: cluster(V1, {
            lbPolicy: 'LEAST_REQUEST',
            limits: { ...cluster(V1).limits, maxConnections: 10, maxPendingRequests: 5 },
            outlier: { consecutive5xx: 3, consecutiveGatewayErrors: 0, intervalMs: 1000, baseEjectionMs: 15_000, maxEjectionPercent: 50, minHealthPercent: 0 },
          }),
        },
        [V2]: { version: 'c1', config: cluster(V2) },
      },
    },
  },
};

describe('proxy-config tables', () => {
  it('describes a match in words, and a route without one as *', () => {
    assert.equal(
      describeMatch({ path: { prefix: '/api' }, method: { exact: 'POST' }, headers: [{ name: 'x-a', value: { regex: '1|2' } }, { name: 'x-b', present: true }, { name: 'x-c', absent: true }], queryParams: [{ name: 'q', present: true }] }),
      'path prefix "/api", method exact "POST", header x-a regex "1|2", header x-b present, header x-c absent, query q present',
    );
    assert.equal(describeMatch({ headers: [], queryParams: [] }), '*');
  });

  it('routes: one row per route with the virtual host, its domains, the match and weighted destinations', () => {
    assert.deepEqual(routesTable(DUMP).split('\n').map((line) => line.split(/ {2,}/)), [
      ['VIRTUAL HOST', 'DOMAINS', 'MATCH', 'DESTINATIONS'],
      [ORDERS, 'orders.default.svc.cluster.local,orders', 'header x-beta exact "1"', `${V2} 100%`],
      [ORDERS, 'orders.default.svc.cluster.local,orders', '*', `${V1} 90%, ${V2} 10%`],
    ]);
  });

  it('clusters: load-balancer policy, the limits that are set, outlier detection', () => {
    assert.deepEqual(clustersTable(DUMP).split('\n').map((line) => line.split(/ {2,}/)), [
      ['NAME', 'LB POLICY', 'CIRCUIT BREAKER', 'OUTLIER DETECTION'],
      [V1, 'LEAST_REQUEST', 'maxConnections=10 maxPending=5', '5xx=3 gateway=0 interval=1000ms ejection=15000ms maxEjection=50%'],
      [V2, 'ROUND_ROBIN', '-', '-'],
    ]);
  });

  it('endpoints: readiness, ejection and active requests per endpoint', () => {
    const table = endpointsTable({
      clusters: [
        {
          name: V1,
          endpoints: [
            { address: '10.0.0.1:8080', workload: 'orders-1.default', ready: true, activeRequests: 2, ejectedUntil: null, ejections: 0 },
            { address: '10.0.0.2:8080', workload: 'orders-2.default', ready: false, activeRequests: 0, ejectedUntil: '2030-01-01T00:00:30.000Z', ejections: 1 },
          ],
        },
      ],
    });
    assert.deepEqual(table.split('\n').map((line) => line.split(/ {2,}/)), [
      ['CLUSTER', 'ADDRESS', 'WORKLOAD', 'READY', 'HEALTH', 'ACTIVE REQUESTS'],
      [V1, '10.0.0.1:8080', 'orders-1.default', 'READY', 'HEALTHY', '2'],
      [V1, '10.0.0.2:8080', 'orders-2.default', 'NOT READY', 'EJECTED until 2030-01-01T00:00:30.000Z', '0'],
    ]);
  });

  it('secrets: the certificate and each trusted root by their public fields', () => {
    const root = { subject: 'O=Weft, CN=root', issuer: 'O=Weft, CN=root', serialNumber: '01', notBefore: '2030-01-01T00:00:00.000Z', notAfter: '2040-01-01T00:00:00.000Z' };
    const status: IdentityStatus = {
      spiffeId: 'spiffe://cluster.local/ns/default/sa/frontend',
      subject: '',
      issuer: 'O=Weft, CN=root',
      serialNumber: 'AB12',
      notBefore: '2030-06-01T00:00:00.000Z',
      notAfter: '2030-06-02T00:00:00.000Z',
      roots: [root],
      issued: 3,
      failures: 1,
      lastError: 'deadline exceeded',
    };
    const [table, footer] = secretsTable(status).split('\n\n');
    assert.deepEqual(table?.split('\n').map((line) => line.split(/ {2,}/)), [
      ['NAME', 'TYPE', 'SUBJECT', 'SPIFFE ID', 'SERIAL', 'NOT BEFORE', 'NOT AFTER', 'ISSUER'],
      ['default', 'Cert Chain', '-', 'spiffe://cluster.local/ns/default/sa/frontend', 'AB12', '2030-06-01T00:00:00.000Z', '2030-06-02T00:00:00.000Z', 'O=Weft, CN=root'],
      ['ROOTCA', 'CA', 'O=Weft, CN=root', '-', '01', '2030-01-01T00:00:00.000Z', '2040-01-01T00:00:00.000Z', 'O=Weft, CN=root'],
    ]);
    assert.equal(footer, 'certificates issued: 3; failed requests: 1; last error: deadline exceeded');
    assert.match(secretsTable(null), /no certificate/);
  });
});
