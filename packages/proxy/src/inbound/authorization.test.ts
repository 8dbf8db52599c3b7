import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceType, weft, type weft as Weft } from '@weft/proto';
import { decodeAccessPolicy, type AccessRequest } from '../config/resources/access-policy.ts';
import { decide } from './authorization.ts';

const { ALLOW, DENY } = weft.config.v1.AccessAction;

function policy(name: string, action: Weft.config.v1.AccessAction, rules: Weft.config.v1.AccessRule.$Properties[]) {
  return decodeAccessPolicy(name, ResourceType.accessPolicy.encode({ name, action, rules }));
}

function request(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return { principal: 'spiffe://cluster.local/ns/shop/sa/frontend', namespace: 'shop', method: 'GET', path: '/orders/42', port: 8080, ...overrides };
}

describe('AccessPolicy decisions', () => {
  const readers = policy('shop/readers', ALLOW, [
    { from: [{ principals: ['cluster.local/ns/shop/sa/frontend'] }], to: [{ methods: ['GET'], paths: ['/orders/*'] }] },
    { from: [{ namespaces: ['ops'] }], to: [{ paths: ['/healthz'] }] },
  ]);
  const noDeletes = policy('shop/no-deletes', DENY, [{ to: [{ methods: ['DELETE'] }] }]);
  const noIntruder = policy('shop/no-intruder', DENY, [{ from: [{ principals: ['spiffe://cluster.local/ns/shop/sa/intruder*'] }] }]);

  it('allows what an ALLOW rule matches: principal (both spellings), path prefix, method', () => {
    assert.deepEqual(decide([readers], request()), { allowed: true });
    assert.deepEqual(decide([readers], request({ principal: 'spiffe://cluster.local/ns/ops/sa/probe', namespace: 'ops', path: '/healthz' })), { allowed: true });
  });

  it('denies what no ALLOW rule matches once an ALLOW policy applies, naming the policies', () => {
    for (const denied of [request({ method: 'POST' }), request({ path: '/admin' }), request({ principal: 'spiffe://cluster.local/ns/shop/sa/other' }), request({ namespace: 'ops', principal: 'spiffe://cluster.local/ns/ops/sa/x', path: '/orders/1' })]) {
      assert.deepEqual(decide([readers], denied), { allowed: false, reason: 'no AccessPolicy allows this request (shop/readers apply)' });
    }
  });

  it('evaluates DENY before ALLOW', () => {
    assert.deepEqual(decide([readers, noDeletes], request({ method: 'DELETE' })), { allowed: false, reason: 'denied by AccessPolicy shop/no-deletes' });
    assert.deepEqual(decide([readers, noIntruder], request({ principal: 'spiffe://cluster.local/ns/shop/sa/intruder-2' })), { allowed: false, reason: 'denied by AccessPolicy shop/no-intruder' });
  });

  it('allows what is not denied when no ALLOW policy applies', () => {
    assert.deepEqual(decide([noDeletes], request({ method: 'PUT', principal: undefined, namespace: undefined })), { allowed: true });
    assert.equal(decide([], request()).allowed, true);
  });

  it('never matches principal or namespace rules for a plaintext caller, not even "*"', () => {
    const anyAuthenticated = policy('shop/any', ALLOW, [{ from: [{ principals: ['*'] }] }]);
    assert.equal(decide([anyAuthenticated], request()).allowed, true);
    assert.equal(decide([anyAuthenticated], request({ principal: undefined, namespace: undefined })).allowed, false);
    const inNamespace = policy('shop/ns', ALLOW, [{ from: [{ namespaces: ['*'] }] }]);
    assert.equal(decide([inNamespace], request({ principal: undefined, namespace: undefined })).allowed, false);
  });

  it('matches path suffixes, exact paths and ports', () => {
    const suffix = policy('shop/json', ALLOW, [{ to: [{ paths: ['*.json', '/exact'], ports: [9090] }] }]);
    assert.equal(decide([suffix], request({ path: '/a/b.json', port: 9090 })).allowed, true);
    assert.equal(decide([suffix], request({ path: '/exact', port: 9090 })).allowed, true);
    assert.equal(decide([suffix], request({ path: '/exact/x', port: 9090 })).allowed, false);
    assert.equal(decide([suffix], request({ path: '/a/b.json', port: 8080 })).allowed, false);
  });

  it('an ALLOW policy without rules allows nothing', () => {
    assert.equal(decide([policy('shop/nothing', ALLOW, [])], request()).allowed, false);
  });
});
