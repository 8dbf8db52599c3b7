import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyJsonPatch, escapePointerToken, jsonPointer, JsonPatchError, parseJsonPointer } from './json-patch.ts';

describe('JSON Pointer', () => {
  it('escapes ~ before / (RFC 6901), and parses back', () => {
    assert.equal(escapePointerToken('weft.dev/status'), 'weft.dev~1status');
    assert.equal(escapePointerToken('a~/b'), 'a~0~1b');
    assert.equal(escapePointerToken('~1'), '~01', 'a literal "~1" is not turned into "/"');
    assert.equal(jsonPointer(['metadata', 'annotations', 'prometheus.io/port']), '/metadata/annotations/prometheus.io~1port');
    assert.equal(jsonPointer(['spec', 'initContainers', 0]), '/spec/initContainers/0');
    assert.deepEqual(parseJsonPointer('/a~1b/c~0d/~01'), ['a/b', 'c~d', '~1']);
    assert.deepEqual(parseJsonPointer(''), []);
    assert.throws(() => parseJsonPointer('a/b'), /must be empty or start with "\/"/);
  });
});

describe('applyJsonPatch', () => {
  it('adds object members, inserts into arrays at an index or at the end, and leaves the input alone', () => {
    const input = { spec: { list: ['b'] }, metadata: {} };
    const output = applyJsonPatch(input, [
      { op: 'add', path: '/spec/list/0', value: 'a' },
      { op: 'add', path: '/spec/list/-', value: 'c' },
      { op: 'add', path: '/spec/list/3', value: 'd' },
      { op: 'add', path: '/metadata/annotations', value: { 'x/y': '1' } },
      { op: 'add', path: '/metadata/annotations/a~0b~1c', value: '2' },
    ]);
    assert.deepEqual(output, { spec: { list: ['a', 'b', 'c', 'd'] }, metadata: { annotations: { 'x/y': '1', 'a~b/c': '2' } } });
    assert.deepEqual(input, { spec: { list: ['b'] }, metadata: {} });
  });

  it('add on an existing member replaces it; replace, remove and test follow RFC 6902', () => {
    const doc = { a: 1, list: [1, 2, 3], nested: { x: [1, { y: 2 }] } };
    assert.deepEqual(applyJsonPatch(doc, [{ op: 'add', path: '/a', value: 5 }]), { ...doc, a: 5 });
    assert.deepEqual(applyJsonPatch(doc, [{ op: 'replace', path: '/list/1', value: 9 }]).list, [1, 9, 3]);
    assert.deepEqual(applyJsonPatch(doc, [{ op: 'remove', path: '/list/0' }]).list, [2, 3]);
    assert.deepEqual(applyJsonPatch(doc, [{ op: 'remove', path: '/a' }]), { list: [1, 2, 3], nested: { x: [1, { y: 2 }] } });
    assert.deepEqual(applyJsonPatch(doc, [{ op: 'test', path: '/nested', value: { x: [1, { y: 2 }] } }]), doc);
    assert.throws(() => applyJsonPatch(doc, [{ op: 'test', path: '/nested/x/1', value: { y: 3 } }]), /test "\/nested\/x\/1": the value differs/);
  });

  it('refuses what cannot apply, naming the operation', () => {
    const doc = { list: [1], object: { a: 1 } };
    const cases: [Parameters<typeof applyJsonPatch>[1][number], RegExp][] = [
      [{ op: 'add', path: '/missing/child', value: 1 }, /"missing" does not exist/],
      [{ op: 'add', path: '/list/2', value: 1 }, /index 2 is out of bounds \(length 1\)/],
      [{ op: 'add', path: '/list/01', value: 1 }, /"01" is not an array index/],
      [{ op: 'replace', path: '/list/1', value: 1 }, /out of bounds/],
      [{ op: 'replace', path: '/object/b', value: 1 }, /the target does not exist/],
      [{ op: 'remove', path: '/object/b' }, /the target does not exist/],
      [{ op: 'add', path: '/list/0/x', value: 1 }, /the parent is not an object or array/],
    ];
    for (const [operation, message] of cases) {
      assert.throws(() => applyJsonPatch(doc, [operation]), (error: unknown) => error instanceof JsonPatchError && message.test(error.message), JSON.stringify(operation));
    }
  });

  it('an empty path replaces the whole document', () => {
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'add', path: '', value: { b: 2 } }]), { b: 2 });
  });
});
