import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CaStatus, ProxyStatus, TypeStatus } from '@weft/controlplane';
import { runChecks, type CheckResult, type Observation } from './checks.ts';

const NOW = Date.parse('2030-06-01T00:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
const OPTIONS = { caExpiryWarningMs: 30 * DAY, maxClockSkewMs: 5000 };

const synced: TypeStatus = { sent: 'v1', acked: 'v1', current: 'v1', rejection: undefined };
const ALL_SYNCED = { cluster: synced, endpoints: synced, listener: synced, route: synced, accessPolicy: synced, trustBundle: synced };

function proxy(id: string, types: ProxyStatus['types'] = ALL_SYNCED): ProxyStatus {
  const [workload = '', namespace = ''] = id.split('.');
  return { id, workload, namespace, proxyVersion: '0.1.0', adminAddress: '127.0.0.1:15000', connectedAt: iso(NOW - HOUR), types };
}

function certificate(proxyId: string, notBefore: number, notAfter: number) {
  return { proxy: proxyId, spiffeId: `spiffe://cluster.local/ns/default/sa/${proxyId}`, serialNumber: 'AB12', notBefore: iso(notBefore), notAfter: iso(notAfter), issuedAt: iso(notBefore) };
}

function ca(overrides: Partial<CaStatus> = {}): CaStatus {
  return {
    trustDomain: 'cluster.local',
    signingChainNotAfter: iso(NOW + 3650 * DAY),
    roots: [{ subject: 'O=Weft, CN=root', issuer: 'O=Weft, CN=root', serialNumber: '01', notBefore: iso(NOW - DAY), notAfter: iso(NOW + 3650 * DAY) }],
    issued: 2,
    refused: {},
    certificates: [certificate('frontend.default', NOW - HOUR, NOW + 23 * HOUR), certificate('orders.default', NOW - HOUR, NOW + 23 * HOUR)],
    ...overrides,
  };
}

function observed(overrides: { proxies?: ProxyStatus[]; ca?: CaStatus | undefined; readyStatus?: number; skewMs?: number } = {}): Observation {
  const skew = overrides.skewMs ?? 0;
  return {
    reachable: true,
    controlPlane: 'http://127.0.0.1:15014',
    readyStatus: overrides.readyStatus ?? 200,
    syncz: { now: iso(NOW + skew), proxies: overrides.proxies ?? [proxy('frontend.default'), proxy('orders.default')] },
    localBefore: NOW - 2,
    localAfter: NOW + 2,
    ca: 'ca' in overrides ? overrides.ca : ca(),
  };
}

const byName = (results: CheckResult[], name: string) => results.find((result) => result.name.startsWith(name)) as CheckResult;
const outcomes = (results: CheckResult[]) => results.map((result) => `${result.outcome} ${result.name}`);

describe('weft check', () => {
  it('passes every check on a healthy mesh', () => {
    assert.deepEqual(outcomes(runChecks(observed(), OPTIONS)), [
      'pass control plane reachable',
      'pass control plane ready',
      'pass clock skew with the control plane under 5 s',
      'pass CA valid and not near expiry',
      'pass trust bundle consistent',
      'pass every proxy synced',
      'pass proxy certificates not near expiry',
    ]);
  });

  it('stops at an unreachable control plane, with the hint to start or forward it', () => {
    const results = runChecks({ reachable: false, controlPlane: 'http://127.0.0.1:15014', error: 'cannot reach the control plane at http://127.0.0.1:15014: connect ECONNREFUSED' }, OPTIONS);
    assert.deepEqual(outcomes(results), ['fail control plane reachable']);
    assert.match(results[0]?.hint ?? '', /kubectl -n weft-system port-forward deploy\/weft-controlplane 15014/);
    assert.match(results[0]?.problems?.[0] ?? '', /ECONNREFUSED/);
  });

  it('fails a control plane that is not ready, as something that may clear by itself', () => {
    const ready = byName(runChecks(observed({ readyStatus: 503 }), OPTIONS), 'control plane ready');
    assert.equal(ready.outcome, 'fail');
    assert.equal(ready.retryable, true);
  });

  it('fails a NACK naming the proxy, the type and the reason, and does not wait for it to clear', () => {
    const rejected: TypeStatus = { sent: 'v2', acked: 'v1', current: 'v2', rejection: { version: 'v2', keeps: 'v1', nonce: '3', message: 'load balancer policy RING_HASH is not supported', at: iso(NOW) } };
    const synced = byName(runChecks(observed({ proxies: [proxy('frontend.default', { ...ALL_SYNCED, cluster: rejected }), proxy('orders.default')] }), OPTIONS), 'every proxy synced');
    assert.equal(synced.outcome, 'fail');
    assert.deepEqual(synced.problems, ['frontend.default CLUSTERS NACKED version v2 (keeps v1): load balancer policy RING_HASH is not supported']);
    assert.match(synced.hint ?? '', /rejected its configuration/);
    assert.equal(synced.retryable, false);
  });

  it('fails a STALE proxy as something that may clear by itself', () => {
    const synced = byName(runChecks(observed({ proxies: [proxy('orders.default', { ...ALL_SYNCED, endpoints: { sent: 'v2', acked: 'v1', current: 'v2', rejection: undefined } })] }), OPTIONS), 'every proxy synced');
    assert.deepEqual(synced.problems, ['orders.default ENDPOINTS STALE']);
    assert.equal(synced.retryable, true);
  });

  it('fails a proxy holding another trust bundle than the control plane', () => {
    const old: TypeStatus = { sent: 'bundle-2', acked: 'bundle-1', current: 'bundle-2', rejection: undefined };
    const trust = byName(runChecks(observed({ proxies: [proxy('frontend.default', { ...ALL_SYNCED, trustBundle: old }), proxy('orders.default')] }), OPTIONS), 'trust bundle consistent');
    assert.equal(trust.outcome, 'fail');
    assert.deepEqual(trust.problems, ["frontend.default holds bundle-1, the control plane's is bundle-2"]);
  });

  it('fails a clock more than 5 s off the control plane, with an NTP hint', () => {
    const skew = byName(runChecks(observed({ skewMs: -6000 }), OPTIONS), 'clock skew');
    assert.equal(skew.outcome, 'fail');
    assert.deepEqual(skew.problems, ["the control plane's clock is 6s behind this machine's"]);
    assert.match(skew.hint ?? '', /NTP/);
    assert.equal(byName(runChecks(observed({ skewMs: 4000 }), OPTIONS), 'clock skew').outcome, 'pass');
  });

  it('warns about a CA under the warning threshold and fails an expired one', () => {
    const soon = byName(runChecks(observed({ ca: ca({ signingChainNotAfter: iso(NOW + 10 * DAY) }) }), OPTIONS), 'CA valid');
    assert.equal(soon.outcome, 'warn');
    assert.match(soon.problems?.[0] ?? '', /expires in 10d/);
    assert.equal(byName(runChecks(observed({ ca: ca({ signingChainNotAfter: iso(NOW + 10 * DAY) }) }), { ...OPTIONS, caExpiryWarningMs: 7 * DAY }), 'CA valid').outcome, 'pass');
    const expired = byName(runChecks(observed({ ca: ca({ signingChainNotAfter: iso(NOW - DAY) }) }), OPTIONS), 'CA valid');
    assert.equal(expired.outcome, 'fail');
    assert.match(expired.hint ?? '', /rotate the CA/);
  });

  it('warns when there is no CA, and leaves out the checks that need one', () => {
    const results = runChecks(observed({ ca: undefined }), OPTIONS);
    assert.equal(byName(results, 'CA valid').outcome, 'warn');
    assert.equal(results.some((result) => result.name.startsWith('trust bundle') || result.name.startsWith('proxy certificates')), false);
  });

  it('fails a proxy certificate that was not renewed in time, and warns about proxies it has no record of', () => {
    const late = ca({ certificates: [certificate('frontend.default', NOW - 20 * HOUR, NOW + 4 * HOUR), certificate('orders.default', NOW - 25 * HOUR, NOW - HOUR)] });
    const certificates = byName(runChecks(observed({ ca: late }), OPTIONS), 'proxy certificates');
    assert.equal(certificates.outcome, 'fail');
    assert.deepEqual(certificates.problems, ['frontend.default: certificate AB12 expires in 4h 0m and was not renewed', `orders.default: certificate AB12 expired on ${iso(NOW - HOUR)}`]);
    const unknown = byName(runChecks(observed({ ca: ca({ certificates: [certificate('orders.default', NOW - HOUR, NOW + 23 * HOUR)] }) }), OPTIONS), 'proxy certificates');
    assert.equal(unknown.outcome, 'warn');
    assert.match(unknown.problems?.[0] ?? '', /frontend\.default/);
  });
});
