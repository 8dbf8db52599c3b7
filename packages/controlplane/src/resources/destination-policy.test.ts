import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { destinationPolicyWith, TRAFFIC_MESH } from '../../test/fixtures.ts';
import { assertRefused, meshModel } from '../../test/read-mesh.ts';
import { effectiveTrafficPolicy, type DestinationPolicy } from './destination-policy.ts';
import type { TrafficPolicy } from './traffic-policy.ts';

const ORDERS = 'orders.default.svc.cluster.local';

function ordersPolicy(text: string): DestinationPolicy {
  const policy = meshModel(text).destinationPolicies.get(ORDERS);
  assert.ok(policy);
  return policy;
}

function topLevel(trafficPolicy: string): TrafficPolicy {
  return ordersPolicy(destinationPolicyWith(trafficPolicy)).trafficPolicy;
}

describe('DestinationPolicy: load balancer', () => {
  it('reads a simple policy or a consistent hash on a header, a cookie or the source IP', () => {
    assert.deepEqual(topLevel('{loadBalancer: {simple: random}}').loadBalancer, { kind: 'simple', policy: 'RANDOM' });
    assert.deepEqual(ordersPolicy(TRAFFIC_MESH).trafficPolicy.loadBalancer, { kind: 'consistentHash', key: { kind: 'header', name: 'x-user' }, minimumRingSize: 2048 });
    assert.deepEqual(topLevel('{loadBalancer: {consistentHash: {httpCookie: {name: session}}}}').loadBalancer, { kind: 'consistentHash', key: { kind: 'cookie', name: 'session' }, minimumRingSize: undefined });
    assert.deepEqual(topLevel('{loadBalancer: {consistentHash: {useSourceIp: true}}}').loadBalancer, { kind: 'consistentHash', key: { kind: 'sourceIp' }, minimumRingSize: undefined });
  });

  it('refuses two hash keys, or both simple and consistentHash', () => {
    assertRefused(
      destinationPolicyWith('{loadBalancer: {consistentHash: {httpHeaderName: x-user, useSourceIp: true}}}'),
      'spec.trafficPolicy.loadBalancer.consistentHash',
      'set exactly one of httpHeaderName, httpCookie, useSourceIp (got httpHeaderName, useSourceIp)',
    );
    assertRefused(destinationPolicyWith('{loadBalancer: {consistentHash: {minimumRingSize: 64}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash', 'set exactly one of httpHeaderName, httpCookie, useSourceIp');
    assertRefused(
      destinationPolicyWith('{loadBalancer: {simple: RANDOM, consistentHash: {useSourceIp: true}}}'),
      'spec.trafficPolicy.loadBalancer',
      'set exactly one of simple, consistentHash (got simple, consistentHash)',
    );
  });

  it('refuses bad hash keys: upper-case headers, cookie ttl, useSourceIp false, a ring of 0', () => {
    assertRefused(destinationPolicyWith('{loadBalancer: {consistentHash: {httpHeaderName: X-User}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.httpHeaderName', '"X-User" is not a lower-case HTTP header name');
    assertRefused(destinationPolicyWith('{loadBalancer: {consistentHash: {httpCookie: {name: s, ttl: 60s}}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.ttl', 'not supported: the proxy does not generate cookies');
    assertRefused(destinationPolicyWith('{loadBalancer: {consistentHash: {httpCookie: {name: "a;b"}}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.name', '"a;b" is not a cookie name');
    assertRefused(destinationPolicyWith('{loadBalancer: {consistentHash: {useSourceIp: false}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.useSourceIp', 'only `true` is meaningful here');
    assertRefused(destinationPolicyWith('{loadBalancer: {consistentHash: {useSourceIp: true, minimumRingSize: 0}}}'), 'spec.trafficPolicy.loadBalancer.consistentHash.minimumRingSize', 'must be between 1 and 8388608, got 0');
    assertRefused(destinationPolicyWith('{loadBalancer: {simple: LEAST_CONN}}'), 'spec.trafficPolicy.loadBalancer.simple', '"LEAST_CONN" is not one of ROUND_ROBIN, LEAST_REQUEST, RANDOM');
  });
});

describe('DestinationPolicy: connection pool', () => {
  it('reads tcp and http limits, leaving unset ones undefined', () => {
    assert.deepEqual(ordersPolicy(TRAFFIC_MESH).trafficPolicy.connectionPool, {
      maxConnections: 10,
      connectTimeoutMs: 2000,
      http1MaxPendingRequests: 5,
      http2MaxRequests: 100,
      maxRequestsPerConnection: 50,
      maxRetries: 3,
      idleTimeoutMs: 30_000,
    });
    assert.deepEqual(topLevel('{connectionPool: {tcp: {maxConnections: 1}, http: {maxRequestsPerConnection: 0}}}').connectionPool, {
      maxConnections: 1,
      connectTimeoutMs: undefined,
      http1MaxPendingRequests: undefined,
      http2MaxRequests: undefined,
      maxRequestsPerConnection: undefined,
      maxRetries: undefined,
      idleTimeoutMs: undefined,
    });
  });

  it('refuses limits of 0, bad durations and fields Weft does not implement', () => {
    assertRefused(destinationPolicyWith('{connectionPool: {tcp: {maxConnections: 0}}}'), 'spec.trafficPolicy.connectionPool.tcp.maxConnections', 'must be between 1 and 2147483647, got 0');
    assertRefused(destinationPolicyWith('{connectionPool: {http: {http1MaxPendingRequests: 1.5}}}'), 'spec.trafficPolicy.connectionPool.http.http1MaxPendingRequests', 'expected an integer, got 1.5');
    assertRefused(destinationPolicyWith('{connectionPool: {http: {idleTimeout: forever}}}'), 'spec.trafficPolicy.connectionPool.http.idleTimeout', '"forever" is not a duration');
    assertRefused(destinationPolicyWith('{connectionPool: {tcp: {tcpKeepalive: {time: 1s}}}}'), 'spec.trafficPolicy.connectionPool.tcp.tcpKeepalive', 'unknown field');
  });
});

describe('DestinationPolicy: outlier detection', () => {
  it("fills Istio's defaults for what is not set", () => {
    assert.deepEqual(ordersPolicy(TRAFFIC_MESH).trafficPolicy.outlierDetection, {
      consecutive5xxErrors: 3,
      consecutiveGatewayErrors: 0,
      intervalMs: 1000,
      baseEjectionTimeMs: 15_000,
      maxEjectionPercent: 50,
      minHealthPercent: 0,
    });
    assert.deepEqual(topLevel('{outlierDetection: {}}').outlierDetection, {
      consecutive5xxErrors: 5,
      consecutiveGatewayErrors: 0,
      intervalMs: 10_000,
      baseEjectionTimeMs: 30_000,
      maxEjectionPercent: 10,
      minHealthPercent: 0,
    });
    assert.equal(topLevel('{outlierDetection: {consecutive5xxErrors: 0, consecutiveGatewayErrors: 4}}').outlierDetection?.consecutive5xxErrors, 0);
  });

  it('refuses percentages out of range, naming the field', () => {
    assertRefused(destinationPolicyWith('{outlierDetection: {maxEjectionPercent: 120}}'), 'spec.trafficPolicy.outlierDetection.maxEjectionPercent', 'must be between 1 and 100, got 120');
    assertRefused(destinationPolicyWith('{outlierDetection: {maxEjectionPercent: 0}}'), 'spec.trafficPolicy.outlierDetection.maxEjectionPercent', 'must be between 1 and 100, got 0');
    assertRefused(destinationPolicyWith('{outlierDetection: {minHealthPercent: 101}}'), 'spec.trafficPolicy.outlierDetection.minHealthPercent', 'must be between 0 and 100, got 101');
    assertRefused(destinationPolicyWith('{outlierDetection: {consecutive5xxErrors: -1}}'), 'spec.trafficPolicy.outlierDetection.consecutive5xxErrors', 'must be between 0 and 2147483647, got -1');
    assertRefused(destinationPolicyWith('{outlierDetection: {baseEjectionTime: 30}}'), 'spec.trafficPolicy.outlierDetection.baseEjectionTime', 'expected a string, got 30');
    assertRefused(destinationPolicyWith('{outlierDetection: {consecutiveErrors: 5}}'), 'spec.trafficPolicy.outlierDetection.consecutiveErrors', 'unknown field');
  });
});

describe('DestinationPolicy: retry budget', () => {
  it('reads percent and minRetryConcurrency, defaulting each to 20 and 3', () => {
    assert.deepEqual(ordersPolicy(TRAFFIC_MESH).trafficPolicy.retryBudget, { percent: 25, minRetryConcurrency: 5 });
    assert.deepEqual(topLevel('{retryBudget: {percent: 12.5}}').retryBudget, { percent: 12.5, minRetryConcurrency: 3 });
    assert.deepEqual(topLevel('{retryBudget: {minRetryConcurrency: 1}}').retryBudget, { percent: 20, minRetryConcurrency: 1 });
  });

  it('refuses percentages outside (0, 100] and a floor of 0', () => {
    assertRefused(destinationPolicyWith('{retryBudget: {percent: 150}}'), 'spec.trafficPolicy.retryBudget.percent', 'must be between 0 and 100, got 150');
    assertRefused(destinationPolicyWith('{retryBudget: {percent: 0}}'), 'spec.trafficPolicy.retryBudget.percent', 'must be greater than 0');
    assertRefused(destinationPolicyWith('{retryBudget: {minRetryConcurrency: 0}}'), 'spec.trafficPolicy.retryBudget.minRetryConcurrency', 'must be between 1 and 2147483647, got 0');
  });
});

describe('DestinationPolicy: subsets', () => {
  it("replaces each section a subset sets, and keeps the service's others", () => {
    const policy = ordersPolicy(TRAFFIC_MESH);
    const [v1, v2] = policy.subsets;
    assert.deepEqual(effectiveTrafficPolicy(policy, v1), policy.trafficPolicy);
    const effective = effectiveTrafficPolicy(policy, v2);
    assert.deepEqual(effective.loadBalancer, { kind: 'simple', policy: 'LEAST_REQUEST' });
    // Replaced whole, as in Istio: the service's consecutive5xxErrors: 3 does not carry over.
    assert.equal(effective.outlierDetection?.consecutive5xxErrors, 5);
    assert.equal(effective.outlierDetection?.consecutiveGatewayErrors, 2);
    assert.equal(effective.connectionPool, policy.trafficPolicy.connectionPool);
    assert.equal(effective.retryBudget, policy.trafficPolicy.retryBudget);
  });

  it("names the subset in a problem with its trafficPolicy", () => {
    assertRefused(destinationPolicyWith('{}', '{connectionPool: {http: {maxRetries: 0}}}'), 'spec.subsets[1].trafficPolicy.connectionPool.http.maxRetries', 'must be between 1 and 2147483647, got 0');
    assertRefused(destinationPolicyWith('{}', '{tls: {mode: ISTIO_MUTUAL}}'), 'spec.subsets[1].trafficPolicy.tls', 'unknown field');
  });

  it('freezes what it reads', () => {
    const policy = ordersPolicy(TRAFFIC_MESH);
    for (const part of [policy.trafficPolicy, policy.trafficPolicy.loadBalancer, policy.trafficPolicy.connectionPool, policy.trafficPolicy.outlierDetection, policy.trafficPolicy.retryBudget, policy.subsets[1]?.trafficPolicy]) {
      assert.ok(Object.isFrozen(part));
    }
  });
});
