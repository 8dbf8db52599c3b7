// JSON Patch (RFC 6902) over JSON Pointers (RFC 6901): what the injection webhook answers, and
// an applier so tests (and `weft inject`) can check that the patch does exactly what the
// mutation did. No dependency: the injector only emits `add`; the applier also knows `remove`,
// `replace` and `test` so tests can express expectations in the same language.

export type JsonPatchOperation =
  | { readonly op: 'add'; readonly path: string; readonly value: unknown }
  | { readonly op: 'replace'; readonly path: string; readonly value: unknown }
  | { readonly op: 'test'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string };

export class JsonPatchError extends Error {
  constructor(operation: JsonPatchOperation, problem: string) {
    super(`JSON Patch ${operation.op} ${JSON.stringify(operation.path)}: ${problem}`);
    this.name = 'JsonPatchError';
  }
}

/** One reference token: `~` and `/` are the only characters a pointer escapes (`~` first). */
export function escapePointerToken(token: string | number): string {
  return String(token).replaceAll('~', '~0').replaceAll('/', '~1');
}

/** A JSON Pointer from unescaped segments: `jsonPointer(['metadata', 'annotations', 'a/b'])` is `/metadata/annotations/a~1b`. */
export function jsonPointer(segments: readonly (string | number)[]): string {
  return segments.map((segment) => `/${escapePointerToken(segment)}`).join('');
}

/** The unescaped segments of a pointer (`~1` before `~0`, as RFC 6901 section 4 requires). */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`JSON Pointer ${JSON.stringify(pointer)} must be empty or start with "/"`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return isContainer(value) && !Array.isArray(value);
}

function arrayIndex(operation: JsonPatchOperation, token: string, length: number, allowEnd: boolean): number {
  if (allowEnd && token === '-') return length;
  // RFC 6901: array indices are "0" or digits without a leading zero.
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new JsonPatchError(operation, `"${token}" is not an array index`);
  const index = Number(token);
  if (index > length || (!allowEnd && index === length)) throw new JsonPatchError(operation, `index ${index} is out of bounds (length ${length})`);
  return index;
}

function hasMember(record: Record<string, unknown>, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(record, key);
}

/** The container holding the pointer's target, and the target's (unescaped) key. */
function locateParent(root: unknown, operation: JsonPatchOperation): { parent: Container; key: string } {
  const segments = parseJsonPointer(operation.path);
  const key = segments.pop();
  if (key === undefined) throw new JsonPatchError(operation, 'the whole document cannot be the target here');
  let current: unknown = root;
  for (const segment of segments) {
    if (Array.isArray(current)) current = current[arrayIndex(operation, segment, current.length, false)];
    else if (isRecord(current) && hasMember(current, segment)) current = current[segment];
    else throw new JsonPatchError(operation, `"${segment}" does not exist`);
  }
  if (!isContainer(current)) throw new JsonPatchError(operation, 'the parent is not an object or array');
  return { parent: current, key };
}

function readTarget(root: unknown, operation: JsonPatchOperation): unknown {
  if (operation.path === '') return root;
  const { parent, key } = locateParent(root, operation);
  if (Array.isArray(parent)) return parent[arrayIndex(operation, key, parent.length, false)];
  if (!hasMember(parent, key)) throw new JsonPatchError(operation, 'the target does not exist');
  return parent[key];
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, index) => isDeepEqual(item, b[index]));
  }
  if (!isContainer(a) || !isContainer(b)) return false;
  const aKeys = Object.keys(a);
  const bRecord = b as Record<string, unknown>;
  return aKeys.length === Object.keys(bRecord).length && aKeys.every((key) => hasMember(bRecord, key) && isDeepEqual((a as Record<string, unknown>)[key], bRecord[key]));
}

function applyOne(root: unknown, operation: JsonPatchOperation): unknown {
  if (operation.op === 'test') {
    if (!isDeepEqual(readTarget(root, operation), operation.value)) throw new JsonPatchError(operation, 'the value differs');
    return root;
  }
  if (operation.path === '') {
    if (operation.op === 'remove') throw new JsonPatchError(operation, 'cannot remove the whole document');
    return structuredClone(operation.value);
  }
  const { parent, key } = locateParent(root, operation);
  if (Array.isArray(parent)) {
    if (operation.op === 'add') parent.splice(arrayIndex(operation, key, parent.length, true), 0, structuredClone(operation.value));
    else if (operation.op === 'replace') parent[arrayIndex(operation, key, parent.length, false)] = structuredClone(operation.value);
    else parent.splice(arrayIndex(operation, key, parent.length, false), 1);
    return root;
  }
  if (operation.op !== 'add' && !hasMember(parent, key)) throw new JsonPatchError(operation, 'the target does not exist');
  if (operation.op === 'remove') delete parent[key];
  else parent[key] = structuredClone(operation.value);
  return root;
}

/**
 * Applies `operations` in order to a copy of `document` and returns it; the input is not
 * changed. Throws JsonPatchError, naming the operation, at the first one that cannot apply
 * (the patch is atomic: nothing is returned then).
 */
export function applyJsonPatch<T>(document: T, operations: readonly JsonPatchOperation[]): T {
  let result: unknown = structuredClone(document);
  for (const operation of operations) result = applyOne(result, operation);
  return result as T;
}
