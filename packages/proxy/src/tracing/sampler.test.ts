import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePercent, Sampler } from './sampler.ts';

describe('Sampler', () => {
  it("keeps the caller's decision whatever the percentage", () => {
    assert.equal(new Sampler(0).decide(true), true);
    assert.equal(new Sampler(100).decide(false), false);
  });

  it('samples that share of traces without a decision', () => {
    let next = 0;
    // Evenly spread draws: 0.000, 0.001, ... 0.999.
    const sampler = new Sampler(25, () => (next++ % 1000) / 1000);
    let sampled = 0;
    for (let i = 0; i < 1000; i++) if (sampler.decide(undefined)) sampled++;
    assert.equal(sampled, 250);
    assert.equal(new Sampler(0, () => 0).decide(undefined), false);
    assert.equal(new Sampler(100, () => 0.999999).decide(undefined), true);
  });

  it('refuses a percentage outside 0..100', () => {
    assert.throws(() => new Sampler(101), /from 0 to 100/);
    assert.throws(() => new Sampler(Number.NaN), /from 0 to 100/);
  });
});

describe('parsePercent', () => {
  it('reads 0 to 100 with decimals', () => {
    assert.equal(parsePercent('0', 'x'), 0);
    assert.equal(parsePercent('1', 'x'), 1);
    assert.equal(parsePercent('0.5', 'x'), 0.5);
    assert.equal(parsePercent('100', 'x'), 100);
  });

  it('refuses anything else, naming the setting', () => {
    for (const bad of ['', '-1', '101', '100.5', '1e2', '50%', 'half', ' 5']) assert.throws(() => parsePercent(bad, '--tracing-sampling'), /--tracing-sampling must be a percentage from 0 to 100/, bad);
  });
});
