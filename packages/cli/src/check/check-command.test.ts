import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkUntilSettled, renderResults } from './check-command.ts';
import type { CheckResult } from './checks.ts';

const STALE: CheckResult = { name: 'every proxy synced', outcome: 'fail', retryable: true };
const NACKED: CheckResult = { name: 'every proxy synced', outcome: 'fail', retryable: false };
const SYNCED: CheckResult = { name: 'every proxy synced', outcome: 'pass' };

/** A check whose answers come from `sequence`, counting calls. */
function scripted(sequence: CheckResult[]) {
  let calls = 0;
  return { check: () => Promise.resolve([sequence[Math.min(calls++, sequence.length - 1)] as CheckResult]), calls: () => calls };
}

describe('checkUntilSettled', () => {
  it('checks again while a failure may clear by itself, until it does', async () => {
    const script = scripted([STALE, STALE, SYNCED]);
    assert.deepEqual(await checkUntilSettled(script.check, 60_000, 1), [SYNCED]);
    assert.equal(script.calls(), 3);
  });

  it('reports a failure that will not clear by itself at once', async () => {
    const script = scripted([NACKED, SYNCED]);
    assert.deepEqual(await checkUntilSettled(script.check, 60_000, 1), [NACKED]);
    assert.equal(script.calls(), 1);
  });

  it('does not check again with no time to wait', async () => {
    const script = scripted([STALE, SYNCED]);
    assert.deepEqual(await checkUntilSettled(script.check, 0, 1), [STALE]);
    assert.equal(script.calls(), 1);
  });
});

describe('check output', () => {
  it('prints ✔, ‼ and × lines, problems and hints indented under what failed, and a summary', () => {
    const text = renderResults([
      { name: 'control plane ready', outcome: 'pass' },
      { name: 'CA valid', outcome: 'warn', detail: 'root', problems: ['expires soon'], hint: 'rotate it' },
      { name: 'every proxy synced', outcome: 'fail', problems: ['a.b CLUSTERS NACKED'], hint: 'fix it' },
    ]);
    assert.equal(text, ['✔ control plane ready', '‼ CA valid (root)', '    expires soon', '    hint: rotate it', '× every proxy synced', '    a.b CLUSTERS NACKED', '    hint: fix it', '', '× 1 check failed'].join('\n'));
    assert.equal(renderResults([{ name: 'x', outcome: 'pass' }, { name: 'y', outcome: 'warn' }]).split('\n').at(-1), '✔ all checks passed (1 warning)');
  });
});
