import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fuzzSeed, SeededRandom } from './seeded-random.ts';

describe('SeededRandom', () => {
  it('replays the same sequence for the same seed, and another for another seed', () => {
    const draw = (seed: number) => Array.from({ length: 20 }, ((random) => () => random.int(1000))(new SeededRandom(seed)));
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
  });

  it('stays in range and reaches both ends', () => {
    const random = new SeededRandom(7);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const value = random.int(5);
      assert.ok(Number.isInteger(value) && value >= 0 && value < 5);
      seen.add(value);
    }
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
  });

  it('takes FUZZ_SEED from the environment to replay a failure, and refuses one that is not an integer', (t) => {
    const saved = process.env.FUZZ_SEED;
    t.after(() => (saved === undefined ? delete process.env.FUZZ_SEED : (process.env.FUZZ_SEED = saved)));
    delete process.env.FUZZ_SEED;
    assert.equal(fuzzSeed(5), 5);
    process.env.FUZZ_SEED = '1234';
    assert.equal(fuzzSeed(5), 1234);
    process.env.FUZZ_SEED = 'abc';
    assert.throws(() => fuzzSeed(5), /FUZZ_SEED must be an integer/);
  });
});
