import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceType, type weft } from '@weft/proto';
import { CANARY_MESH, TRAFFIC_MESH, trafficRouteWith } from '../../test/fixtures.ts';
import { plain, translatorFor } from '../../test/read-mesh.ts';

function ordersRoutes(text: string): weft.config.v1.Route.$Properties[] {
  const resource = translatorFor(text).snapshotFor('frontend', 'default').route.get('orders.default.svc.cluster.local:8080');
  assert.ok(resource);
  return ResourceType.route.decode(resource.value).routes ?? [];
}

describe('route translation', () => {
  it('puts query parameter matches into RouteMatch.query_params', () => {
    const [search] = ordersRoutes(TRAFFIC_MESH);
    assert.deepEqual(search?.match?.queryParams?.map((param) => [param.name, param.value?.prefix ?? null, param.value?.regex ?? null]), [
      ['q', 'a', null],
      ['page', null, '[0-9]+'],
    ]);
  });

  it('carries retries: attempts, per-try timeout, conditions, status codes, backoff', () => {
    const [search, rest] = ordersRoutes(TRAFFIC_MESH);
    assert.deepEqual(plain(search?.retries), {
      attempts: 3,
      perTryTimeoutMs: 500,
      retryOn: ['5xx', 'connect-failure', 'retriable-status-codes'],
      retriableStatusCodes: [429, 503],
      backoffBaseMs: 10,
      backoffMaxMs: 100,
    });
    // Defaults are left to the proxy: 0 per-try timeout and backoff.
    assert.deepEqual(plain(rest?.retries), { attempts: 2, retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'], retriableStatusCodes: [503] });
  });

  it('sends no retry policy without `retries`, with `attempts: 0`, or for a service without a TrafficRoute', () => {
    assert.equal(ordersRoutes(trafficRouteWith('{route: [{destination: {host: orders}}]}'))[0]?.retries, null);
    assert.equal(ordersRoutes(trafficRouteWith('{route: [{destination: {host: orders}}], retries: {attempts: 0}}'))[0]?.retries, null);
    const resource = translatorFor(TRAFFIC_MESH).snapshotFor('frontend', 'default').route.get('audit.default.svc.cluster.local:8080');
    assert.ok(resource);
    assert.equal(ResourceType.route.decode(resource.value).routes?.[0]?.retries, null);
  });

  it('carries faults, with the gRPC status as its code', () => {
    const [search, rest] = ordersRoutes(TRAFFIC_MESH);
    assert.deepEqual(plain(search?.fault), { delay: { fixedDelayMs: 5000, percentage: 10 }, abort: { httpStatus: 503, percentage: 0.5 } });
    assert.deepEqual(plain(rest?.fault), { abort: { grpcStatus: 14, percentage: 100 } });
  });

  it("mirrors to the mirror target's cluster", () => {
    const [search, rest] = ordersRoutes(TRAFFIC_MESH);
    assert.deepEqual(plain(search?.mirror), { cluster: 'outbound|8080|shadow|audit.default.svc.cluster.local', percentage: 25 });
    assert.deepEqual(plain(rest?.mirror), { cluster: 'outbound|9090||audit.default.svc.cluster.local', percentage: 100 });
  });

  it('carries request and response header edits', () => {
    const [search, rest] = ordersRoutes(TRAFFIC_MESH);
    assert.deepEqual(plain(search?.requestHeaders), { set: { 'x-route': 'search' }, add: { 'x-trace-tag': 'search' }, remove: ['x-debug'] });
    assert.deepEqual(plain(search?.responseHeaders), { set: { 'cache-control': 'no-store' } });
    assert.equal(rest?.requestHeaders, null);
  });

  it('gives every match alternative of a rule the same policies', () => {
    const routes = ordersRoutes(
      trafficRouteWith('{match: [{uri: {prefix: /a}}, {uri: {prefix: /b}}], route: [{destination: {host: orders}}], retries: {attempts: 1, retryOn: reset}, fault: {abort: {httpStatus: 500}}}'),
    );
    assert.deepEqual(routes.map((route) => [route.match?.path?.prefix, route.retries?.retryOn, route.fault?.abort?.httpStatus]), [
      ['/a', ['reset'], 500],
      ['/b', ['reset'], 500],
    ]);
  });

  it('leaves routes of the canary mesh without the new policies', () => {
    for (const route of ordersRoutes(CANARY_MESH)) {
      assert.deepEqual([route.retries, route.fault, route.mirror, route.requestHeaders, route.responseHeaders, route.match?.queryParams], [null, null, null, null, null, []]);
    }
  });
});
