import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceType, weft } from '@weft/proto';
import { CANARY_MESH } from '../../test/fixtures.ts';
import { readMeshFile } from '../registry/mesh-file.ts';
import type { ResourceSet } from './snapshot.ts';
import { SnapshotTranslator } from './translate.ts';

function translator(text = CANARY_MESH): SnapshotTranslator {
  const result = readMeshFile(text, 'mesh.yaml');
  assert.ok(result.ok);
  return new SnapshotTranslator(result.model);
}

function decode<T>(set: ResourceSet, codec: { decode(bytes: Uint8Array): T }): Map<string, T> {
  return new Map([...set.resources()].map((resource) => [resource.name, codec.decode(resource.value)]));
}

describe('SnapshotTranslator', () => {
  it('makes a cluster per service port and subset, with endpoints selected by labels', () => {
    const snapshot = translator().snapshotFor('frontend', 'default');
    const clusters = decode(snapshot.cluster, ResourceType.cluster);
    assert.deepEqual(new Set([...clusters.keys()].filter((name) => name.includes('orders'))), new Set([
      'outbound|8080||orders.default.svc.cluster.local',
      'outbound|8080|v1|orders.default.svc.cluster.local',
      'outbound|8080|v2|orders.default.svc.cluster.local',
    ]));
    assert.equal(clusters.get('outbound|8080|v1|orders.default.svc.cluster.local')?.lbPolicy, weft.config.v1.LbPolicy.LEAST_REQUEST);
    assert.equal(clusters.get('outbound|8080|v2|orders.default.svc.cluster.local')?.lbPolicy, weft.config.v1.LbPolicy.RANDOM);
    assert.deepEqual(clusters.get('outbound|8080|v1|orders.default.svc.cluster.local')?.peerIdentities, ['spiffe://cluster.local/ns/default/sa/orders']);
    const endpoints = decode(snapshot.endpoints, ResourceType.endpoints);
    assert.deepEqual(endpoints.get('outbound|8080|v2|orders.default.svc.cluster.local')?.endpoints?.map((e) => [e.port, e.proxyAddress, e.ready]), [[18082, '127.0.0.1:17002', true]]);
    assert.equal(endpoints.get('outbound|8080||orders.default.svc.cluster.local')?.endpoints?.length, 2);
  });

  it('turns each match alternative into a route, in order, keeping weights and timeouts', () => {
    const routes = decode(translator().snapshotFor('frontend', 'default').route, ResourceType.route);
    const orders = routes.get('orders.default.svc.cluster.local:8080');
    assert.deepEqual(orders?.domains, ['orders.default.svc.cluster.local', 'orders.default.svc', 'orders.default', 'orders']);
    assert.deepEqual(orders?.routes?.map((r) => [r.name, r.match?.headers?.length ?? 0, r.match?.path?.prefix ?? null, r.timeoutMs]), [
      ['beta', 1, null, 0],
      ['beta', 0, '/beta', 0],
      ['orders.1', 0, null, 1500],
    ]);
    assert.deepEqual(orders?.routes?.[2]?.clusters?.map((c) => [c.cluster, c.weight]), [
      ['outbound|8080|v1|orders.default.svc.cluster.local', 90],
      ['outbound|8080|v2|orders.default.svc.cluster.local', 10],
    ]);
  });

  it('resolves short names only for proxies in the service namespace', () => {
    const routes = decode(translator().snapshotFor('elsewhere', 'other').route, ResourceType.route);
    assert.deepEqual(routes.get('orders.default.svc.cluster.local:8080')?.domains, ['orders.default.svc.cluster.local', 'orders.default.svc', 'orders.default']);
  });

  it('gives a proxy listeners for its own workload only, and none when unknown', () => {
    const t = translator();
    const listeners = decode(t.snapshotFor('orders-v2', 'default').listener, ResourceType.listener);
    assert.deepEqual([...listeners.values()].map((l) => [l.name, l.port, l.tlsMode]), [['inbound|18082', 18082, weft.config.v1.TlsMode.PERMISSIVE]]);
    assert.equal(t.snapshotFor('not-yet-registered', 'default').listener.size, 0);
  });

  it('shares cluster sets between proxies of one model, and versions them by content', () => {
    const t = translator();
    assert.equal(t.snapshotFor('a', 'default').cluster, t.snapshotFor('b', 'x').cluster);
    const again = translator().snapshotFor('a', 'default');
    assert.equal(again.cluster.version, t.snapshotFor('a', 'default').cluster.version);
    const changed = translator(CANARY_MESH.replace('weight: 90', 'weight: 80').replace('weight: 10', 'weight: 20')).snapshotFor('a', 'default');
    assert.equal(changed.cluster.version, again.cluster.version);
    assert.notEqual(changed.route.version, again.route.version);
  });
});
