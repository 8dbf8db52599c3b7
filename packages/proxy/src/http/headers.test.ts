import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardableHeaders, parseAuthority } from './headers.ts';

describe('headers', () => {
  it('drops hop-by-hop headers and those named in Connection', () => {
    assert.deepEqual(
      forwardableHeaders({ connection: 'keep-alive, X-Secret', 'keep-alive': 'timeout=5', 'x-secret': 's', 'transfer-encoding': 'chunked', host: 'a', 'x-kept': 'k', upgrade: 'h2c' }),
      { 'x-kept': 'k' },
    );
  });

  it('parses authorities, with and without port, and refuses nonsense', () => {
    assert.deepEqual(parseAuthority('Orders.Default:8080'), { host: 'orders.default', port: 8080 });
    assert.deepEqual(parseAuthority('orders.'), { host: 'orders', port: undefined });
    assert.deepEqual(parseAuthority('[::1]:80'), { host: '[::1]', port: 80 });
    assert.equal(parseAuthority(''), undefined);
    assert.equal(parseAuthority('a:b:c'), undefined);
    assert.equal(parseAuthority('a:70000'), undefined);
    for (const invalid of ['tar get:8080', 'evil@target:8080', 'a\tb', 'a/b', 'a?b', 'a#b', 'a\\b']) assert.equal(parseAuthority(invalid), undefined, invalid);
  });
});
