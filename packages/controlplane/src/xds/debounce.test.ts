import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Debouncer } from './debounce.ts';

describe('Debouncer', () => {
  it('waits for a quiet period, and fires once per burst', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    let fired = 0;
    const debouncer = new Debouncer({ quietMs: 100, maxDelayMs: 10_000 }, () => fired++);
    debouncer.trigger();
    t.mock.timers.tick(60);
    debouncer.trigger();
    t.mock.timers.tick(60);
    assert.equal(fired, 0);
    t.mock.timers.tick(40);
    assert.equal(fired, 1);
    t.mock.timers.tick(1000);
    assert.equal(fired, 1);
  });

  it('fires by the maximum delay under a steady trickle of changes', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    let fired = 0;
    const debouncer = new Debouncer({ quietMs: 100, maxDelayMs: 1000 }, () => fired++);
    for (let elapsed = 0; elapsed < 1000; elapsed += 50) {
      debouncer.trigger();
      t.mock.timers.tick(50);
    }
    assert.equal(fired, 1);
  });

  it('cancel drops a pending action', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    let fired = 0;
    const debouncer = new Debouncer({ quietMs: 100, maxDelayMs: 1000 }, () => fired++);
    debouncer.trigger();
    debouncer.cancel();
    t.mock.timers.tick(2000);
    assert.equal(fired, 0);
  });
});
