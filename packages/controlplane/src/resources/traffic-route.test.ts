import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TRAFFIC_MESH, trafficRouteWith } from '../../test/fixtures.ts';
import { assertRefused, meshModel } from '../../test/read-mesh.ts';
import type { ResolvedRouteRule } from '../model/mesh-model.ts';

const ORDERS = 'orders.default.svc.cluster.local';
const DEST = 'route: [{destination: {host: orders}}]';

function rules(text: string): readonly ResolvedRouteRule[] {
  const route = meshModel(text).trafficRoutes.get(ORDERS);
  assert.ok(route);
  return route.rules;
}

function rule(text: string): ResolvedRouteRule {
  const [first] = rules(text);
  assert.ok(first);
  return first;
}

describe('TrafficRoute: query parameter matches', () => {
  it('reads queryParams into the model', () => {
    assert.deepEqual(rules(TRAFFIC_MESH)[0]?.matches[0]?.queryParams, [
      { name: 'q', match: { kind: 'prefix', value: 'a' } },
      { name: 'page', match: { kind: 'regex', value: '[0-9]+' } },
    ]);
  });

  it('refuses what is not a StringMatch, and bad regexes', () => {
    assertRefused(trafficRouteWith(`{match: [{queryParams: {debug: {present: true}}}], ${DEST}}`), 'spec.http[0].match[0].queryParams.debug.present', 'unknown field');
    assertRefused(trafficRouteWith(`{match: [{queryParams: {page: {regex: "[0-9"}}}], ${DEST}}`), 'spec.http[0].match[0].queryParams.page.regex', 'invalid regular expression');
    // RE2's subset: what cannot match in linear time is refused where it is written.
    assertRefused(trafficRouteWith(`{match: [{uri: {regex: "(?=/admin)/.*"}}], ${DEST}}`), 'spec.http[0].match[0].uri.regex', 'invalid regular expression: backreferences and lookaround are not supported');
  });
});

describe('TrafficRoute: header matches', () => {
  it('takes exactly one of exact, prefix, regex, present, absent', () => {
    assert.deepEqual(rule(trafficRouteWith(`{match: [{headers: {x-beta: {present: true}}}], ${DEST}}`)).matches[0]?.headers, [{ name: 'x-beta', kind: 'present' }]);
    assertRefused(trafficRouteWith(`{match: [{headers: {x-beta: {present: true, exact: "1"}}}], ${DEST}}`), 'spec.http[0].match[0].headers.x-beta', 'set exactly one of exact, prefix, regex, present, absent (got exact, present)');
  });
});

describe('TrafficRoute: retries', () => {
  it('reads attempts, perTryTimeout, retryOn (status codes apart) and backoff', () => {
    assert.deepEqual(rules(TRAFFIC_MESH)[0]?.retries, {
      attempts: 3,
      perTryTimeoutMs: 500,
      retryOn: ['5xx', 'connect-failure', 'retriable-status-codes'],
      retriableStatusCodes: [429, 503],
      backoff: { baseMs: 10, maxMs: 100 },
    });
  });

  it("uses Istio's conditions (and 503) when retryOn is omitted, and no retries without `retries`", () => {
    assert.deepEqual(rules(TRAFFIC_MESH)[1]?.retries, {
      attempts: 2,
      perTryTimeoutMs: undefined,
      retryOn: ['connect-failure', 'refused-stream', 'unavailable', 'cancelled', 'retriable-status-codes'],
      retriableStatusCodes: [503],
      backoff: undefined,
    });
    assert.equal(rule(trafficRouteWith(`{${DEST}}`)).retries, undefined);
    assert.equal(rule(trafficRouteWith(`{${DEST}, retries: {attempts: 0}}`)).retries?.attempts, 0);
  });

  it("takes a bare backoff duration as Istio's base interval, the maximum defaulting to ten times the base", () => {
    assert.deepEqual(rule(trafficRouteWith(`{${DEST}, retries: {attempts: 1, backoff: 40ms}}`)).retries?.backoff, { baseMs: 40, maxMs: 400 });
    assert.deepEqual(rule(trafficRouteWith(`{${DEST}, retries: {attempts: 1, backoff: {baseInterval: 50ms}}}`)).retries?.backoff, { baseMs: 50, maxMs: 500 });
    assert.deepEqual(rule(trafficRouteWith(`{${DEST}, retries: {attempts: 1, backoff: {maxInterval: 1s}}}`)).retries?.backoff, { baseMs: 25, maxMs: 1000 });
  });

  it('refuses an unknown retryOn item, naming it', () => {
    assertRefused(trafficRouteWith(`{${DEST}, retries: {attempts: 3, retryOn: "5xx,gateway-eror"}}`), 'spec.http[0].retries.retryOn', '"gateway-eror" is not a retry condition');
    assertRefused(trafficRouteWith(`{${DEST}, retries: {attempts: 3, retryOn: "5xx,600"}}`), 'spec.http[0].retries.retryOn', '"600" is not a retry condition');
    assertRefused(trafficRouteWith(`{${DEST}, retries: {attempts: 3, retryOn: "5xx,,reset"}}`), 'spec.http[0].retries.retryOn', '"5xx,,reset" has an empty item');
    assertRefused(trafficRouteWith(`{${DEST}, retries: {attempts: 3, retryOn: "retriable-status-codes"}}`), 'spec.http[0].retries.retryOn', 'retriable-status-codes needs at least one status code');
  });

  it('refuses missing or out-of-range attempts, and a backoff maximum below its base', () => {
    assertRefused(trafficRouteWith(`{${DEST}, retries: {retryOn: 5xx}}`), 'spec.http[0].retries.attempts', 'required');
    assertRefused(trafficRouteWith(`{${DEST}, retries: {attempts: 101}}`), 'spec.http[0].retries.attempts', 'must be between 0 and 100, got 101');
    assertRefused(trafficRouteWith(`{${DEST}, retries: {attempts: 1, perTryTimeout: soon}}`), 'spec.http[0].retries.perTryTimeout', '"soon" is not a duration');
    assertRefused(
      trafficRouteWith(`{${DEST}, retries: {attempts: 1, backoff: {baseInterval: 100ms, maxInterval: 50ms}}}`),
      'spec.http[0].retries.backoff.maxInterval',
      'must be at least baseInterval (100ms), got 50ms',
    );
    assertRefused(trafficRouteWith(`{${DEST}, retries: {attempts: 1, retryRemoteLocalities: true}}`), 'spec.http[0].retries.retryRemoteLocalities', 'unknown field');
  });
});

describe('TrafficRoute: fault injection', () => {
  it('reads delay and abort with their percentages', () => {
    assert.deepEqual(rules(TRAFFIC_MESH)[0]?.fault, {
      delay: { fixedDelayMs: 5000, percentage: 10 },
      abort: { kind: 'http', httpStatus: 503, percentage: 0.5 },
    });
  });

  it('maps a gRPC status name to its code, and an omitted percentage to 100', () => {
    assert.deepEqual(rules(TRAFFIC_MESH)[1]?.fault, { delay: undefined, abort: { kind: 'grpc', grpcStatus: 'UNAVAILABLE', grpcCode: 14, percentage: 100 } });
    const abort = (status: string): unknown => rule(trafficRouteWith(`{${DEST}, fault: {abort: {grpcStatus: ${status}}}}`)).fault?.abort;
    assert.deepEqual(abort('CANCELLED'), { kind: 'grpc', grpcStatus: 'CANCELLED', grpcCode: 1, percentage: 100 });
    assert.deepEqual(abort('unauthenticated'), { kind: 'grpc', grpcStatus: 'UNAUTHENTICATED', grpcCode: 16, percentage: 100 });
  });

  it('refuses a percentage above 100, both or neither status, and unknown gRPC names', () => {
    assertRefused(trafficRouteWith(`{${DEST}, fault: {delay: {fixedDelay: 1s, percentage: {value: 150}}}}`), 'spec.http[0].fault.delay.percentage.value', 'must be between 0 and 100, got 150');
    assertRefused(trafficRouteWith(`{${DEST}, fault: {abort: {httpStatus: 503, grpcStatus: UNAVAILABLE}}}`), 'spec.http[0].fault.abort', 'set exactly one of httpStatus, grpcStatus (got httpStatus, grpcStatus)');
    assertRefused(trafficRouteWith(`{${DEST}, fault: {abort: {percentage: {value: 5}}}}`), 'spec.http[0].fault.abort', 'set exactly one of httpStatus, grpcStatus');
    assertRefused(trafficRouteWith(`{${DEST}, fault: {abort: {grpcStatus: UNAVAILBLE}}}`), 'spec.http[0].fault.abort.grpcStatus', '"UNAVAILBLE" is not one of CANCELLED');
    assertRefused(trafficRouteWith(`{${DEST}, fault: {abort: {grpcStatus: OK}}}`), 'spec.http[0].fault.abort.grpcStatus', '"OK" is not one of');
  });

  it('refuses statuses outside 200..599, a delay without fixedDelay, and an empty fault', () => {
    assertRefused(trafficRouteWith(`{${DEST}, fault: {abort: {httpStatus: 600}}}`), 'spec.http[0].fault.abort.httpStatus', 'must be between 200 and 599, got 600');
    assertRefused(trafficRouteWith(`{${DEST}, fault: {abort: {httpStatus: 103}}}`), 'spec.http[0].fault.abort.httpStatus', 'must be between 200 and 599, got 103');
    assertRefused(trafficRouteWith(`{${DEST}, fault: {delay: {percentage: {value: 5}}}}`), 'spec.http[0].fault.delay.fixedDelay', 'required');
    assertRefused(trafficRouteWith(`{${DEST}, fault: {}}`), 'spec.http[0].fault', 'set delay, abort or both');
  });
});

describe('TrafficRoute: mirroring', () => {
  it('resolves the mirror like a destination, with its percentage (100 when omitted)', () => {
    const [search, rest] = rules(TRAFFIC_MESH);
    assert.deepEqual(search?.mirror, { hostname: 'audit.default.svc.cluster.local', port: 8080, subset: 'shadow', percentage: 25 });
    assert.deepEqual(rest?.mirror, { hostname: 'audit.default.svc.cluster.local', port: 9090, subset: undefined, percentage: 100 });
    assert.equal(rule(trafficRouteWith(`{${DEST}}`)).mirror, undefined);
  });

  it('refuses a mirror to an unknown subset, host or port, naming the field', () => {
    assertRefused(trafficRouteWith(`{${DEST}, mirror: {host: orders, subset: canary}}`), 'spec.http[0].mirror.subset', 'subset "canary" is not defined by any DestinationPolicy for orders.default.svc.cluster.local');
    assertRefused(trafficRouteWith(`{${DEST}, mirror: {host: payments}}`), 'spec.http[0].mirror.host', 'unknown host "payments"');
    assertRefused(trafficRouteWith(`{${DEST}, mirror: {host: audit}}`), 'spec.http[0].mirror.port', 'required: service audit.default.svc.cluster.local has 2 ports');
    assertRefused(trafficRouteWith(`{${DEST}, mirror: {host: audit, port: {number: 7070}}}`), 'spec.http[0].mirror.port.number', 'service audit.default.svc.cluster.local has no port 7070');
  });

  it('refuses mirrorPercentage without mirror, or above 100', () => {
    assertRefused(trafficRouteWith(`{${DEST}, mirrorPercentage: {value: 5}}`), 'spec.http[0].mirrorPercentage', 'needs `mirror`');
    assertRefused(trafficRouteWith(`{${DEST}, mirror: {host: orders}, mirrorPercentage: {value: 100.5}}`), 'spec.http[0].mirrorPercentage.value', 'must be between 0 and 100, got 100.5');
  });
});

describe('TrafficRoute: header edits', () => {
  it('reads set, add and remove for requests and responses', () => {
    assert.deepEqual(rules(TRAFFIC_MESH)[0]?.headers, {
      request: { set: { 'x-route': 'search' }, add: { 'x-trace-tag': 'search' }, remove: ['x-debug'] },
      response: { set: { 'cache-control': 'no-store' }, add: {}, remove: [] },
    });
    assert.deepEqual(rule(trafficRouteWith(`{${DEST}, headers: {request: {set: {x-empty: ""}}}}`)).headers?.request?.set, { 'x-empty': '' });
  });

  it('refuses connection-level and framing headers', () => {
    for (const name of ['connection', 'transfer-encoding', 'host', 'te', 'upgrade', 'keep-alive', 'proxy-connection', 'content-length']) {
      assertRefused(trafficRouteWith(`{${DEST}, headers: {request: {set: {${name}: x}}}}`), `spec.http[0].headers.request.set.${name}`, `"${name}" is a connection or framing header`);
    }
    assertRefused(trafficRouteWith(`{${DEST}, headers: {response: {remove: [connection]}}}`), 'spec.http[0].headers.response.remove[0]', '"connection" is a connection or framing header');
  });

  it("refuses names that are not lower-case tokens, the mesh's own headers, and values that are not plain strings", () => {
    assertRefused(trafficRouteWith(`{${DEST}, headers: {request: {remove: [X-Debug]}}}`), 'spec.http[0].headers.request.remove[0]', '"X-Debug" is not a lower-case HTTP header name');
    assertRefused(trafficRouteWith(`{${DEST}, headers: {request: {add: {"x debug": "1"}}}}`), 'spec.http[0].headers.request.add.x debug', '"x debug" is not a lower-case HTTP header name');
    assertRefused(trafficRouteWith(`{${DEST}, headers: {request: {set: {weft-target-port: "80"}}}}`), 'spec.http[0].headers.request.set.weft-target-port', '"weft-target-port" is reserved: headers starting with weft- are the proxy\'s own');
    assertRefused(trafficRouteWith(`{${DEST}, headers: {request: {set: {x-version: 2}}}}`), 'spec.http[0].headers.request.set.x-version', 'expected a string, got 2');
    assertRefused(trafficRouteWith(`{${DEST}, headers: {response: {set: {x-a: "1\\r\\nset-cookie: a=b"}}}}`), 'spec.http[0].headers.response.set.x-a', 'header values cannot contain line breaks');
    assertRefused(trafficRouteWith(`{${DEST}, headers: {request: {append: {x-a: b}}}}`), 'spec.http[0].headers.request.append', 'unknown field');
  });
});

describe('TrafficRoute: destinations', () => {
  it('refuses weights out of range or not summing to 100', () => {
    assertRefused(trafficRouteWith('{route: [{destination: {host: orders, subset: v1}, weight: 120}, {destination: {host: orders, subset: v2}, weight: 0}]}'), 'spec.http[0].route[0].weight', 'must be between 0 and 100, got 120');
    assertRefused(trafficRouteWith('{route: [{destination: {host: orders, subset: v1}, weight: 50}, {destination: {host: orders, subset: v2}, weight: 40}]}'), 'spec.http[0].route', 'weights must sum to 100, got 90');
    assertRefused(trafficRouteWith('{route: [{destination: {host: orders, subset: v1}}, {destination: {host: orders, subset: v2}}]}'), 'spec.http[0].route[0].weight', 'required when a rule has several destinations');
  });
});

describe('TrafficRoute: the model', () => {
  it('freezes every part it reads', () => {
    const [search] = rules(TRAFFIC_MESH);
    assert.ok(search);
    const parts = [search, search.matches[0]?.queryParams, search.matches[0]?.queryParams[0], search.retries, search.retries?.retryOn, search.retries?.backoff, search.fault, search.fault?.delay, search.fault?.abort, search.mirror, search.headers, search.headers?.request, search.headers?.request?.set, search.headers?.request?.remove];
    for (const part of parts) assert.ok(Object.isFrozen(part));
  });
});
