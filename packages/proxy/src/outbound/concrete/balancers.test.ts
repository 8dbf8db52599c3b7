import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointConfig } from '../../config/resources/endpoints.ts';
import { createPicker, type EndpointState } from './balancers.ts';

function endpoint(address: string, ready = true): EndpointState {
  const config: EndpointConfig = { address, port: 80, labels: {}, weight: 1, ready, workload: address, connectHost: address, connectPort: 80, viaSidecar: false, mtls: false };
  return { config, active: 0 };
}

function sequence(values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length] as number;
}

describe('balancers', () => {
  it('round robin cycles over ready endpoints only', () => {
    const endpoints = [endpoint('10.0.0.1'), endpoint('10.0.0.2', false), endpoint('10.0.0.3')];
    const pick = createPicker('ROUND_ROBIN', endpoints, () => 0);
    assert.deepEqual([1, 2, 3, 4].map(() => pick()?.config.address), ['10.0.0.3', '10.0.0.1', '10.0.0.3', '10.0.0.1']);
  });

  it('answers undefined when no endpoint is ready', () => {
    for (const policy of ['ROUND_ROBIN', 'RANDOM', 'LEAST_REQUEST'] as const) {
      assert.equal(createPicker(policy, [endpoint('10.0.0.1', false)])(), undefined, policy);
    }
  });

  it('least request takes the less loaded of two random choices', () => {
    const endpoints = [endpoint('10.0.0.1'), endpoint('10.0.0.2')];
    (endpoints[0] as EndpointState).active = 5;
    const pick = createPicker('LEAST_REQUEST', endpoints, sequence([0, 0.9]));
    assert.equal(pick()?.config.address, '10.0.0.2');
  });

  it('refuses a policy it does not implement', () => {
    assert.throws(() => createPicker('RING_HASH', []), /RING_HASH is not supported/);
  });
});
