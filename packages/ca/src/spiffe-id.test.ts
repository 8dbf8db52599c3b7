import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaError } from './ca-error.ts';
import { parseSpiffeId, spiffeId } from './spiffe-id.ts';

describe('spiffeId', () => {
  it('formats spiffe://<trust domain>/ns/<namespace>/sa/<service account>', () => {
    assert.equal(spiffeId('cluster.local', { namespace: 'default', serviceAccount: 'orders' }), 'spiffe://cluster.local/ns/default/sa/orders');
  });

  it('refuses parts that would change the path or are not SPIFFE characters', () => {
    for (const [trustDomain, namespace, serviceAccount] of [
      ['cluster.local', 'a/sa/b', 'c'],
      ['cluster.local', 'default', 'orders?x'],
      ['cluster.local', '.', 'orders'],
      ['cluster.local', 'default', '..'],
      ['cluster.local', '', 'orders'],
      ['Cluster.Local', 'default', 'orders'],
      ['cluster.local:443', 'default', 'orders'],
      ['', 'default', 'orders'],
    ] as const) {
      assert.throws(() => spiffeId(trustDomain, { namespace, serviceAccount }), (error) => error instanceof CaError && error.code === 'WEFT_ERR_IDENTITY', `${trustDomain} ${namespace} ${serviceAccount}`);
    }
  });
});

describe('parseSpiffeId', () => {
  it('parses a workload ID', () => {
    assert.deepEqual(parseSpiffeId('spiffe://cluster.local/ns/default/sa/orders'), { trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'orders' });
    assert.deepEqual(parseSpiffeId('spiffe://td_1.example-x/ns/kube-system/sa/Weft.Proxy_1'), { trustDomain: 'td_1.example-x', namespace: 'kube-system', serviceAccount: 'Weft.Proxy_1' });
  });

  it('is strict: scheme, no port, userinfo, query or fragment, exactly ns/<x>/sa/<y>', () => {
    for (const uri of [
      'SPIFFE://cluster.local/ns/default/sa/orders',
      'spiffe:/cluster.local/ns/default/sa/orders',
      'https://cluster.local/ns/default/sa/orders',
      'spiffe://cluster.local:8080/ns/default/sa/orders',
      'spiffe://user@cluster.local/ns/default/sa/orders',
      'spiffe://cluster.local/ns/default/sa/orders?x=1',
      'spiffe://cluster.local/ns/default/sa/orders#frag',
      'spiffe://cluster.local/ns/default/sa/orders/',
      'spiffe://cluster.local/ns/default/sa/orders/extra',
      'spiffe://cluster.local/ns//sa/orders',
      'spiffe://cluster.local/ns/../sa/orders',
      'spiffe://cluster.local/ns/default/sa/%6Frders',
      'spiffe://cluster.local/sa/orders/ns/default',
      'spiffe://cluster.local',
      'spiffe://Cluster.local/ns/default/sa/orders',
      'spiffe:///ns/default/sa/orders',
      ' spiffe://cluster.local/ns/default/sa/orders',
      'spiffe://cluster.local/ns/default/sa/orders\n',
    ]) {
      assert.equal(parseSpiffeId(uri), undefined, uri);
    }
  });

  it('round-trips with spiffeId', () => {
    const id = spiffeId('example.org', { namespace: 'shop', serviceAccount: 'cart' });
    const parsed = parseSpiffeId(id);
    assert.ok(parsed);
    assert.equal(spiffeId(parsed.trustDomain, parsed), id);
  });
});
