import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from './subcommand.ts';
import { formatDuration, parseTtl } from './ttl.ts';

describe('parseTtl', () => {
  it('reads 30s, 10m, 1h and 7d as seconds', () => {
    assert.deepEqual(['30s', '10m', '1h', '7d'].map(parseTtl), [30, 600, 3600, 604_800]);
  });

  it('refuses anything else as a usage error', () => {
    for (const value of ['', '1', '0s', '-1h', '1.5h', '1w', '1 h', 'h', '01h', '99999999999999999999d']) {
      assert.throws(() => parseTtl(value), UsageError, value);
    }
  });
});

describe('formatDuration', () => {
  it('shows the two largest units', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(42_000), '42s');
    assert.equal(formatDuration(200_000), '3m 20s');
    assert.equal(formatDuration(3_600_000), '1h 0m');
    assert.equal(formatDuration((9 * 86_400 + 23 * 3600 + 59) * 1000), '9d 23h');
    assert.equal(formatDuration(-90_000), '1m 30s');
  });
});
