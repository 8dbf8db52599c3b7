import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from './backoff.ts';

describe('Backoff', () => {
  it('doubles the ceiling per attempt up to the cap, with full jitter', () => {
    const ceilings = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 1 });
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => ceilings.nextDelayMs()), [100, 200, 400, 800, 1000, 1000]);
    const jittered = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0.25 });
    assert.deepEqual([1, 2].map(() => jittered.nextDelayMs()), [25, 50]);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 1 });
    backoff.nextDelayMs();
    backoff.nextDelayMs();
    backoff.reset();
    assert.equal(backoff.nextDelayMs(), 100);
  });
});
