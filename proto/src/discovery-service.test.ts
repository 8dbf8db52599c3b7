import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiscoveryResponse, EncodedDiscoveryResponse } from './discovery-service.ts';

test('a shared encoding plus the nonce decodes as the whole response', () => {
  const shared = DiscoveryResponse.encode({ versionInfo: 'v1', typeUrl: 't', controlPlane: 'cp-1', resources: [{ name: 'a', version: 'r1', resource: { type_url: 't', value: Buffer.from([1, 2, 3]) } }] }).finish();
  const decoded = DiscoveryResponse.toObject(DiscoveryResponse.decode(new EncodedDiscoveryResponse(shared, '42').bytes));
  const whole = DiscoveryResponse.toObject(
    DiscoveryResponse.decode(DiscoveryResponse.encode({ versionInfo: 'v1', typeUrl: 't', controlPlane: 'cp-1', nonce: '42', resources: [{ name: 'a', version: 'r1', resource: { type_url: 't', value: Buffer.from([1, 2, 3]) } }] }).finish()),
  );
  assert.deepEqual(decoded, whole);
  assert.equal(decoded.nonce, '42');
});
