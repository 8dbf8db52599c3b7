import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointConfig } from '../../config/resources/endpoints.ts';
import { createPicker, newEndpointState, type EndpointState, type PickHint } from './balancers.ts';

function endpoint(address: string): EndpointState {
  const config: EndpointConfig = { address, port: 80, labels: {}, weight: 1, ready: true, workload: address, connectHost: address, connectPort: 80, viaSidecar: false, mtls: false };
  return newEndpointState(config);
}

function sequence(values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length] as number;
}

const NO_HINT: PickHint = { hashKey: undefined, tried: undefined };
const addresses = (picked: (EndpointState | undefined)[]) => picked.map((e) => e?.config.address);

describe('balancers', () => {
  it('round robin cycles over the candidates', () => {
    const endpoints = [endpoint('10.0.0.1'), endpoint('10.0.0.2'), endpoint('10.0.0.3')];
    const pick = createPicker('ROUND_ROBIN', endpoints, { random: () => 0 });
    const candidates = [endpoints[0] as EndpointState, endpoints[2] as EndpointState];
    assert.deepEqual(addresses([1, 2, 3, 4].map(() => pick(candidates, NO_HINT))), ['10.0.0.3', '10.0.0.1', '10.0.0.3', '10.0.0.1']);
  });

  it('answers undefined without candidates', () => {
    for (const policy of ['ROUND_ROBIN', 'RANDOM', 'LEAST_REQUEST'] as const) assert.equal(createPicker(policy, [endpoint('10.0.0.1')])([], NO_HINT), undefined, policy);
  });

  it('least request takes the less loaded of two random choices', () => {
    const endpoints = [endpoint('10.0.0.1'), endpoint('10.0.0.2')];
    (endpoints[0] as EndpointState).active = 5;
    const pick = createPicker('LEAST_REQUEST', endpoints, { random: sequence([0, 0.9]) });
    assert.equal(pick(endpoints, NO_HINT)?.config.address, '10.0.0.2');
  });

  it('prefers endpoints an earlier attempt has not tried, while there are any', () => {
    const endpoints = [endpoint('10.0.0.1'), endpoint('10.0.0.2'), endpoint('10.0.0.3')];
    const pick = createPicker('RANDOM', endpoints, { random: () => 0 });
    assert.equal(pick(endpoints, { hashKey: undefined, tried: new Set([endpoints[0] as EndpointState]) })?.config.address, '10.0.0.2');
    assert.equal(pick(endpoints, { hashKey: undefined, tried: new Set(endpoints) })?.config.address, '10.0.0.1');
  });

  it('ring hash sends a key to the same endpoint every time, and walks past unusable ones', () => {
    const endpoints = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map(endpoint);
    const pick = createPicker('RING_HASH', endpoints, { hash: { key: { kind: 'header', name: 'x-user' }, ringSize: 1024 } });
    const first = pick(endpoints, { hashKey: 'alice', tried: undefined });
    for (let i = 0; i < 20; i++) assert.equal(pick(endpoints, { hashKey: 'alice', tried: undefined }), first);
    const others = endpoints.filter((e) => e !== first);
    assert.ok(others.includes(pick(others, { hashKey: 'alice', tried: undefined }) as EndpointState));
  });

  it('ring hash moves about 1/N of the keys when an endpoint is added', () => {
    const four = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map(endpoint);
    const five = [...four, endpoint('10.0.0.5')];
    const hash = { key: { kind: 'header', name: 'x-user' } as const, ringSize: 1024 };
    const before = createPicker('RING_HASH', four, { hash });
    const after = createPicker('RING_HASH', five, { hash });
    let moved = 0;
    const counts = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const key = `user-${i}`;
      const a = before(four, { hashKey: key, tried: undefined })?.config.address;
      const b = after(five, { hashKey: key, tried: undefined })?.config.address as string;
      counts.set(b, (counts.get(b) ?? 0) + 1);
      if (a !== b) {
        moved++;
        assert.equal(b, '10.0.0.5', 'keys move only to the new endpoint');
      }
    }
    // Ideal 1/5 = 200 keys; allow the ring's granularity.
    assert.ok(moved > 120 && moved < 290, `${moved} of 1000 keys moved`);
    for (const [address, count] of counts) assert.ok(count > 120 && count < 290, `${address} owns ${count} keys`);
  });
});
