import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from './rate-limiter.ts';

describe('RateLimiter', () => {
  it('allows a burst, then refills at the rate, per key', () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 3, perSecond: 2, now: () => now });
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('a')), [true, true, true, false]);
    assert.equal(limiter.take('b'), true, 'another identity has its own bucket');
    now += 500;
    assert.deepEqual([limiter.take('a'), limiter.take('a')], [true, false]);
    now += 10_000;
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('a')), [true, true, true, false], 'refill stops at the burst');
  });
});
