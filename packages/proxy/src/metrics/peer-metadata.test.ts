import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnectionInfo } from '../http/handler.ts';
import { DESTINATION_SERVICE_HEADER, SOURCE_WORKLOAD_HEADER, takePeerMetadata, UNKNOWN_WORKLOAD } from './peer-metadata.ts';

const mtls = (namespace: string): ConnectionInfo => ({ mtls: true, peer: { spiffeId: `spiffe://cluster.local/ns/${namespace}/sa/frontend`, trustDomain: 'cluster.local', namespace, serviceAccount: 'frontend' } });
const plaintext: ConnectionInfo = { mtls: false, peer: undefined };
const claim = (workload: string) => ({ [SOURCE_WORKLOAD_HEADER]: workload, [DESTINATION_SERVICE_HEADER]: 'orders.shop.svc.cluster.local', other: 'kept' });

test('an mTLS peer is named by its certificate, and by its claimed workload when the namespaces agree', () => {
  const headers = claim('frontend-v2.shop');
  assert.deepEqual(takePeerMetadata(headers, mtls('shop'), false), {
    source: { workload: 'frontend-v2', namespace: 'shop', principal: 'spiffe://cluster.local/ns/shop/sa/frontend' },
    destinationService: 'orders.shop.svc.cluster.local',
  });
  assert.deepEqual(headers, { other: 'kept' }, 'the metadata never reaches the application');
  assert.equal(takePeerMetadata(claim('frontend.elsewhere'), mtls('shop'), false).source.workload, 'unknown', 'a claim outside the proven namespace');
});

test('plaintext callers are not believed unless the mesh has no identities; odd values never become labels', () => {
  const headers = claim('frontend.shop');
  assert.deepEqual(takePeerMetadata(headers, plaintext, false), { source: UNKNOWN_WORKLOAD, destinationService: undefined });
  assert.deepEqual(headers, { other: 'kept' });
  assert.deepEqual(takePeerMetadata(claim('frontend.shop'), plaintext, true).source, { workload: 'frontend', namespace: 'shop', principal: '' });
  assert.equal(takePeerMetadata(claim('Robert"); DROP.shop'), plaintext, true).source.workload, 'unknown');
  assert.equal(takePeerMetadata({ [DESTINATION_SERVICE_HEADER]: 'x'.repeat(300) }, mtls('shop'), false).destinationService, undefined);
});
