import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResourceType, weft } from '@weft/proto';
import { ConfigStore } from './config-store.ts';
import { InvalidResourceError } from './resources/invalid-resource.ts';

const clusterUrl = ResourceType.cluster.typeUrl;

function clusterResource(name: string, version: string, fields: Partial<weft.config.v1.Cluster.$Properties> = {}): weft.discovery.v1.Resource.$Properties {
  return { name, version, resource: { type_url: clusterUrl, value: ResourceType.cluster.encode({ name, service: 'orders.default.svc.cluster.local', port: 8080, ...fields }) } };
}

describe('ConfigStore', () => {
  it('replaces a type as a whole and notifies', () => {
    const store = new ConfigStore();
    const changes: string[] = [];
    store.onChange((kind) => changes.push(kind));
    store.apply('cluster', clusterUrl, 'v1', [clusterResource('a', '1'), clusterResource('b', '1')]);
    store.apply('cluster', clusterUrl, 'v2', [clusterResource('b', '1')]);
    assert.deepEqual([...store.values('cluster').keys()], ['b']);
    assert.equal(store.version('cluster'), 'v2');
    assert.deepEqual(changes, ['cluster', 'cluster']);
  });

  it('keeps the decoded object of a resource whose version did not change', () => {
    const store = new ConfigStore();
    store.apply('cluster', clusterUrl, 'v1', [clusterResource('a', '1')]);
    const before = store.get('cluster', 'a');
    store.apply('cluster', clusterUrl, 'v2', [clusterResource('a', '1'), clusterResource('b', '1')]);
    assert.equal(store.get('cluster', 'a'), before);
  });

  it('rejects a response with one bad resource and keeps the previous set', () => {
    const store = new ConfigStore();
    store.apply('cluster', clusterUrl, 'v1', [clusterResource('a', '1')]);
    assert.throws(
      () => store.apply('cluster', clusterUrl, 'v2', [clusterResource('a', '2'), clusterResource('b', '1', { lbPolicy: weft.config.v1.LbPolicy.RING_HASH })]),
      (error: unknown) => error instanceof InvalidResourceError && /b: RING_HASH and a consistent hash key go together/.test(error.message),
    );
    assert.equal(store.version('cluster'), 'v1');
    assert.deepEqual([...store.values('cluster').keys()], ['a']);
  });

  it('rejects unknown enum values, wrong type URLs, duplicates and undecodable bytes', () => {
    const store = new ConfigStore();
    const reject = (resources: weft.discovery.v1.Resource.$Properties[], pattern: RegExp): void =>
      assert.throws(() => store.apply('cluster', clusterUrl, 'v', resources), (error: unknown) => error instanceof InvalidResourceError && pattern.test(error.message));
    reject([clusterResource('a', '1', { protocol: 42 as weft.config.v1.Protocol })], /unknown protocol 42/);
    reject([{ name: 'a', version: '1', resource: { type_url: ResourceType.route.typeUrl, value: new Uint8Array() } }], /expected a .*Cluster, got .*RouteConfiguration/);
    reject([clusterResource('a', '1'), clusterResource('a', '2')], /appears twice/);
    reject([{ name: 'a', version: '1', resource: { type_url: clusterUrl, value: Uint8Array.from([0x0a, 0xff]) } }], /a: cannot decode/);
    assert.equal(store.version('cluster'), '');
  });

  it('is complete once every type arrived, even empty', () => {
    const store = new ConfigStore();
    for (const kind of ['cluster', 'endpoints', 'listener', 'route', 'accessPolicy'] as const) store.apply(kind, ResourceType[kind].typeUrl, 'v', []);
    assert.equal(store.complete, false);
    store.apply('trustBundle', ResourceType.trustBundle.typeUrl, 'v', []);
    assert.equal(store.complete, true);
  });
});
