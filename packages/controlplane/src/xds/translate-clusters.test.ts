import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceType, weft } from '@weft/proto';
import { destinationPolicyWith, TRAFFIC_MESH } from '../../test/fixtures.ts';
import { plain, translatorFor } from '../../test/read-mesh.ts';

const { LbPolicy } = weft.config.v1;

function clusters(text: string): Map<string, weft.config.v1.Cluster.$Properties> {
  const set = translatorFor(text).snapshotFor('frontend', 'default').cluster;
  return new Map([...set.resources()].map((resource) => [resource.name, ResourceType.cluster.decode(resource.value)]));
}

function orders(text: string, subset = ''): weft.config.v1.Cluster.$Properties {
  const cluster = clusters(text).get(`outbound|8080|${subset}|orders.default.svc.cluster.local`);
  assert.ok(cluster);
  return cluster;
}

describe('cluster translation', () => {
  it('turns consistentHash into RING_HASH with its key and ring size', () => {
    const cluster = orders(TRAFFIC_MESH);
    assert.equal(cluster.lbPolicy, LbPolicy.RING_HASH);
    assert.deepEqual(plain(cluster.consistentHash), { headerName: 'x-user', minimumRingSize: 2048 });
    assert.deepEqual(plain(orders(destinationPolicyWith('{loadBalancer: {consistentHash: {httpCookie: {name: session}}}}')).consistentHash), { cookieName: 'session' });
    assert.deepEqual(plain(orders(destinationPolicyWith('{loadBalancer: {consistentHash: {useSourceIp: true}}}')).consistentHash), { useSourceIp: true });
  });

  it('maps simple policies, ROUND_ROBIN by default, without a hash', () => {
    const cluster = orders(destinationPolicyWith('{loadBalancer: {simple: LEAST_REQUEST}}'), 'v1');
    assert.equal(cluster.lbPolicy, LbPolicy.LEAST_REQUEST);
    assert.equal(cluster.consistentHash, null);
    assert.equal(orders(destinationPolicyWith('{}')).lbPolicy, LbPolicy.ROUND_ROBIN);
  });

  it('carries connection pool limits in milliseconds, unset ones as 0', () => {
    assert.deepEqual(plain(orders(TRAFFIC_MESH).connectionPool), {
      maxConnections: 10,
      connectTimeoutMs: 2000,
      maxPendingRequests: 5,
      maxRequests: 100,
      maxRequestsPerConnection: 50,
      maxRetries: 3,
      idleTimeoutMs: 30_000,
    });
    assert.deepEqual(plain(orders(destinationPolicyWith('{connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1}}}')).connectionPool), { maxConnections: 1, maxPendingRequests: 1 });
  });

  it('carries outlier detection with the defaults filled in', () => {
    assert.deepEqual(plain(orders(TRAFFIC_MESH).outlierDetection), {
      consecutive_5xx: 3,
      intervalMs: 1000,
      baseEjectionTimeMs: 15_000,
      maxEjectionPercent: 50,
    });
    assert.deepEqual(plain(orders(destinationPolicyWith('{outlierDetection: {}}')).outlierDetection), { consecutive_5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10 });
  });

  it('carries the retry budget', () => {
    assert.deepEqual(plain(orders(TRAFFIC_MESH).retryBudget), { budgetPercent: 25, minRetryConcurrency: 5 });
  });

  it("gives a subset's cluster the subset's sections and the service's others", () => {
    const v1 = orders(TRAFFIC_MESH, 'v1');
    const v2 = orders(TRAFFIC_MESH, 'v2');
    assert.deepEqual(plain(v1), { ...(plain(orders(TRAFFIC_MESH)) as object), name: v1.name, subset: 'v1' });
    assert.equal(v2.lbPolicy, LbPolicy.LEAST_REQUEST);
    assert.equal(v2.consistentHash, null);
    assert.deepEqual(plain(v2.outlierDetection), { consecutive_5xx: 5, consecutiveGatewayErrors: 2, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 10 });
    assert.deepEqual(plain(v2.connectionPool), plain(orders(TRAFFIC_MESH).connectionPool));
    assert.deepEqual(plain(v2.retryBudget), { budgetPercent: 25, minRetryConcurrency: 5 });
  });

  it('sends none of the policies for a service without them', () => {
    const audit = clusters(TRAFFIC_MESH).get('outbound|9090|shadow|audit.default.svc.cluster.local');
    assert.ok(audit);
    assert.deepEqual([audit.lbPolicy, audit.consistentHash, audit.connectionPool, audit.outlierDetection, audit.retryBudget], [LbPolicy.ROUND_ROBIN, null, null, null, null]);
  });
});
