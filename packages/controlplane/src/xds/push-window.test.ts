import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PushWindow } from './push-window.ts';

test('a resumed pusher that still does not fit keeps its place at the front, and the others are not woken for nothing', () => {
  const window = new PushWindow(100);
  assert.ok(window.tryReserve(90));
  const calls: string[] = [];
  const big = (): void => {
    calls.push('big');
    if (!window.tryReserve(50)) window.wait(big);
  };
  const small = (): void => {
    calls.push('small');
  };
  window.wait(big);
  window.wait(small);
  window.release(30);
  assert.deepEqual(calls, ['big'], 'big did not fit, small was not woken');
  window.release(60);
  assert.deepEqual(calls, ['big', 'big', 'small'], 'big first, then small while room remains');
});

test('reserves up to the limit, lets one oversized push through alone, and resumes waiters in order as bytes return', () => {
  const window = new PushWindow(100);
  assert.ok(window.tryReserve(500), 'alone, even an oversized push goes');
  assert.ok(!window.tryReserve(1));
  const resumed: string[] = [];
  const a = () => resumed.push('a');
  window.wait(a);
  window.wait(a);
  window.wait(() => resumed.push('b'));
  assert.equal(window.waitingCount, 2, 'a pusher waits once');
  window.release(500);
  assert.deepEqual(resumed, ['a', 'b']);
  assert.equal(window.inFlight, 0);
  assert.ok(window.tryReserve(60) && window.tryReserve(40) && !window.tryReserve(1));
  const c = () => resumed.push('c');
  window.wait(c);
  window.cancel(c);
  window.release(100);
  assert.deepEqual(resumed, ['a', 'b'], 'a cancelled pusher is not resumed');
});
