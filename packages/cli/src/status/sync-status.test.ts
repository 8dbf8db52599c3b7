import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProxyStatus, TypeStatus } from '@weft/controlplane';
import { renderProxyStatus } from './proxy-status-command.ts';
import { classify, describeProblem, syncProblems } from './sync-status.ts';

const rejection = (version: string, keeps: string, message = 'no good') => ({ version, keeps, message, nonce: '7', at: '2030-01-01T00:00:00.000Z' });
const type = (sent: string | undefined, acked: string | undefined, current: string | undefined, rejected?: ReturnType<typeof rejection>): TypeStatus => ({ sent, acked, current, rejection: rejected });

function proxy(id: string, types: ProxyStatus['types']): ProxyStatus {
  const [workload = '', namespace = ''] = id.split('.');
  return { id, workload, namespace, proxyVersion: '0.1.0', adminAddress: '127.0.0.1:15000', connectedAt: '2030-01-01T00:00:00.000Z', types };
}

describe('classify', () => {
  it('is SYNCED only when the proxy ACKed the version sent and that is the current one', () => {
    assert.equal(classify(type('v2', 'v2', 'v2')), 'SYNCED');
  });

  it('is STALE while a version is in flight, or when the proxy holds an older version than the current one', () => {
    assert.equal(classify(type('v2', 'v1', 'v2')), 'STALE', 'sent, not ACKed yet');
    assert.equal(classify(type('v2', undefined, 'v2')), 'STALE', 'first version, not ACKed yet');
    assert.equal(classify(type('v1', 'v1', 'v2')), 'STALE', 'the current snapshot moved on');
  });

  it('is NACKED when the version last sent was rejected, and STALE again once a newer one is in flight', () => {
    assert.equal(classify(type('v2', 'v1', 'v2', rejection('v2', 'v1'))), 'NACKED');
    assert.equal(classify(type('v3', 'v1', 'v3', rejection('v2', 'v1'))), 'STALE');
  });

  it('is NOT SENT before anything of the type went out', () => {
    assert.equal(classify(undefined), 'NOT SENT');
    assert.equal(classify(type(undefined, undefined, 'v1')), 'NOT SENT');
  });
});

describe('sync problems and the proxy-status table', () => {
  const synced = type('v1', 'v1', 'v1');
  const all = { cluster: synced, endpoints: synced, listener: synced, route: synced, accessPolicy: synced, trustBundle: synced };
  const proxies = [
    proxy('frontend.default', { ...all, route: type('abcdef0123', 'fedcba9876', 'abcdef0123', rejection('abcdef0123', 'fedcba9876', 'route 0: cluster weights sum to 90, not 100')) }),
    proxy('orders.default', all),
  ];

  it('names the proxy, the type, the rejected version, the one it keeps and the reason', () => {
    assert.deepEqual(syncProblems(proxies).map(describeProblem), ['frontend.default ROUTES NACKED version abcdef01 (keeps fedcba98): route 0: cluster weights sum to 90, not 100']);
  });

  it('shows one row per proxy, one column per type, and the reasons for NACKs below', () => {
    const text = renderProxyStatus({ now: '2030-01-01T00:02:03.000Z', proxies });
    assert.equal(
      text,
      [
        'PROXY             CLUSTERS  ENDPOINTS  LISTENERS  ROUTES  POLICIES  TRUST BUNDLE  VERSION  CONNECTED',
        'frontend.default  SYNCED    SYNCED     SYNCED     NACKED  SYNCED    SYNCED        0.1.0    2m 3s',
        'orders.default    SYNCED    SYNCED     SYNCED     SYNCED  SYNCED    SYNCED        0.1.0    2m 3s',
        '',
        'frontend.default ROUTES NACKED version abcdef01 (keeps fedcba98): route 0: cluster weights sum to 90, not 100',
      ].join('\n'),
    );
  });

  it('says so when no proxy is connected', () => {
    assert.equal(renderProxyStatus({ now: '2030-01-01T00:00:00.000Z', proxies: [] }), 'no proxies are connected to this control plane');
  });
});
