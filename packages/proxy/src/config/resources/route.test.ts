import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceType, type weft } from '@weft/proto';
import { InvalidResourceError } from './invalid-resource.ts';
import { decodeRouteConfiguration } from './route.ts';

function decode(routes: weft.config.v1.Route.$Properties[]) {
  const name = 'orders.default.svc.cluster.local:8080';
  return decodeRouteConfiguration(name, ResourceType.route.encode({ name, service: 'orders.default.svc.cluster.local', port: 8080, domains: ['Orders'], routes }));
}
const to = (cluster: string) => [{ cluster, weight: 100 }];

describe('decodeRouteConfiguration', () => {
  it('compiles path, method and header matches', () => {
    const host = decode([
      { name: 'regex', match: { path: { regex: '/items/[0-9]+' } }, clusters: to('a') },
      { name: 'post', match: { method: { exact: 'POST' }, path: { prefix: '/api' } }, clusters: to('b') },
      { name: 'beta', match: { headers: [{ name: 'x-beta', value: { exact: '1' } }, { name: 'x-debug', absent: true }] }, clusters: to('c') },
      { name: 'present', match: { headers: [{ name: 'x-canary', present: true }] }, clusters: to('d') },
    ]);
    const first = (method: string, path: string, headers: Record<string, string> = {}) => host.routes.find((route) => route.matches({ method, path, query: '', headers }))?.name;
    assert.equal(first('GET', '/items/42'), 'regex');
    assert.equal(first('GET', '/items/42/x'), undefined, 'regexes match the whole path');
    assert.equal(first('POST', '/api/x'), 'post');
    assert.equal(first('GET', '/api/x'), undefined);
    assert.equal(first('GET', '/', { 'x-beta': '1' }), 'beta');
    assert.equal(first('GET', '/', { 'x-beta': '1', 'x-debug': 'y', 'x-canary': '' }), 'present');
    assert.deepEqual(host.domains, ['orders']);
  });

  it('keeps what each route matches as data, for the admin endpoint', () => {
    const host = decode([
      { name: 'post', match: { method: { exact: 'POST' }, path: { prefix: '/api' }, headers: [{ name: 'x-beta', value: { regex: '1|2' } }, { name: 'x-debug', absent: true }], queryParams: [{ name: 'q', present: true }] }, clusters: to('a') },
      { name: 'all', clusters: to('b') },
    ]);
    assert.deepEqual(JSON.parse(JSON.stringify(host.routes.map((route) => route.match))), [
      { path: { prefix: '/api' }, method: { exact: 'POST' }, headers: [{ name: 'x-beta', value: { regex: '1|2' } }, { name: 'x-debug', absent: true }], queryParams: [{ name: 'q', present: true }] },
      { headers: [], queryParams: [] },
    ]);
  });

  it('matches a pattern that backtracks catastrophically in linear time', () => {
    // 2^40 steps on a backtracking engine alone: this test would not end.
    const host = decode([{ name: 'nested', match: { path: { regex: '/(a+)+' } }, clusters: to('a') }]);
    assert.equal(host.routes[0]?.matches({ method: 'GET', path: `/${'a'.repeat(40)}!`, query: '', headers: {} }), false);
    assert.equal(host.routes[0]?.matches({ method: 'GET', path: `/${'a'.repeat(40)}`, query: '', headers: {} }), true);
  });

  it('refuses weights that do not sum to 100, empty routes and bad regexes', () => {
    const refuses = (routes: weft.config.v1.Route.$Properties[], pattern: RegExp) =>
      assert.throws(() => decode(routes), (error: unknown) => error instanceof InvalidResourceError && pattern.test(error.message));
    refuses([{ clusters: [{ cluster: 'a', weight: 60 }, { cluster: 'b', weight: 30 }] }], /route 0: cluster weights sum to 90, not 100/);
    refuses([{ clusters: [] }], /route has no clusters/);
    refuses([{ match: { path: { regex: '(' } }, clusters: to('a') }], /invalid regex/);
    refuses([{ match: { path: { regex: '/(a)\\1' } }, clusters: to('a') }], /invalid regex: backreferences and lookaround are not supported/);
    refuses([{ match: { headers: [{ name: 'X-Upper', present: true }] }, clusters: to('a') }], /not a lower-case header name/);
  });
});
