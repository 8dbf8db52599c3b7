import assert from 'node:assert/strict';
import { test } from 'node:test';
import { leastSquaresSlope } from './trend.ts';

test('the least-squares slope follows the trend, not the noise, and needs 3 points at distinct times', () => {
  assert.equal(leastSquaresSlope([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }]), 2);
  // Flat with one spike at the end: first-vs-last would say 10 per step.
  const flat = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((x) => ({ x, y: x === 9 ? 100 : 10 }));
  const slope = leastSquaresSlope(flat) ?? Number.NaN;
  assert.ok(slope > 0 && slope < 6, `slope ${slope}`);
  assert.equal(leastSquaresSlope([{ x: 0, y: 1 }, { x: 1, y: 2 }]), undefined);
  assert.equal(leastSquaresSlope([{ x: 1, y: 1 }, { x: 1, y: 2 }, { x: 1, y: 3 }]), undefined);
});
