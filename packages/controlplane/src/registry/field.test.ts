import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Field } from './field.ts';

function failure(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected a FieldError');
}

describe('Field', () => {
  it('reads numbers with decimals within bounds', () => {
    assert.equal(new Field(12.5, ['value']).number(0, 100), 12.5);
    assert.equal(failure(() => new Field(100.01, ['value']).number(0, 100)), 'value: must be between 0 and 100, got 100.01');
    assert.equal(failure(() => new Field('5', ['value']).number(0, 100)), 'value: expected a number, got "5"');
    assert.equal(failure(() => new Field(undefined, ['value']).number(0, 100)), 'value: required');
  });

  it('refuses durations longer than a Node.js timer can wait', () => {
    assert.equal(new Field('24h', ['timeout']).durationMs(), 86_400_000);
    assert.match(failure(() => new Field('600h', ['timeout']).durationMs()), /^timeout: "600h" is longer than 2147483647ms/);
  });
});
