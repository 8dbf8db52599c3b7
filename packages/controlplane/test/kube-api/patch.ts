// TEST DOUBLE support (not a Kubernetes API server): the PATCH bodies the API server accepts.
// JSON merge patch (RFC 7386), JSON patch (RFC 6902), and strategic merge patch approximated by
// a merge patch (lists are replaced instead of merged by key) for built-in kinds only: like the
// real server, custom resources refuse strategic merge with 415.
import { ApiError } from './errors.ts';

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

interface Operation {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw ApiError.invalid(`invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The container that holds the last token of `path`, and that token. */
function parentOf(document: Json, tokens: string[]): { container: Json; key: string } {
  let container = document;
  for (const token of tokens.slice(0, -1)) {
    container = child(container, token);
    if (container === undefined) throw ApiError.invalid(`JSON patch path /${tokens.join('/')}: missing parent`);
  }
  return { container, key: tokens[tokens.length - 1] ?? '' };
}

function child(container: Json, key: string): Json {
  if (Array.isArray(container)) return container[Number(key)];
  if (isObject(container)) return container[key];
  return undefined;
}

function read(document: Json, path: string): Json {
  let value = document;
  for (const token of pointer(path)) value = child(value, token);
  if (value === undefined) throw ApiError.invalid(`JSON patch: no value at ${path}`);
  return value;
}

function add(document: Json, path: string, value: Json): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return structuredClone(value);
  const { container, key } = parentOf(document, tokens);
  if (Array.isArray(container)) {
    const index = key === '-' ? container.length : Number(key);
    if (!Number.isInteger(index) || index < 0 || index > container.length) throw ApiError.invalid(`JSON patch: bad index at ${path}`);
    container.splice(index, 0, structuredClone(value));
  } else if (isObject(container)) {
    container[key] = structuredClone(value);
  } else {
    throw ApiError.invalid(`JSON patch: cannot add at ${path}`);
  }
  return document;
}

function remove(document: Json, path: string): Json {
  const tokens = pointer(path);
  read(document, path);
  const { container, key } = parentOf(document, tokens);
  if (Array.isArray(container)) container.splice(Number(key), 1);
  else if (isObject(container)) delete container[key];
  return document;
}

function applyOperation(document: Json, operation: Operation): Json {
  switch (operation.op) {
    case 'add':
      return add(document, operation.path, operation.value);
    case 'remove':
      return remove(document, operation.path);
    case 'replace':
      return add(remove(document, operation.path), operation.path, operation.value);
    case 'move': {
      const value = read(document, operation.from ?? '');
      return add(remove(document, operation.from ?? ''), operation.path, value);
    }
    case 'copy':
      return add(document, operation.path, read(document, operation.from ?? ''));
    case 'test':
      if (JSON.stringify(read(document, operation.path)) !== JSON.stringify(operation.value)) throw ApiError.invalid(`JSON patch: test failed at ${operation.path}`);
      return document;
    default:
      throw ApiError.badRequest(`JSON patch: unknown op "${operation.op}"`);
  }
}

export function jsonPatch(target: Json, operations: Json): Json {
  // The real server fails to decode a non-array body as a JSON patch: a merge-patch object sent
  // with client-node's default PATCH content type (application/json-patch+json) lands here.
  if (!Array.isArray(operations)) {
    throw ApiError.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch (a JSON patch must be an array of operations)');
  }
  let document = structuredClone(target);
  for (const operation of operations as Operation[]) document = applyOperation(document, operation);
  return document;
}

export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'] as const;

/** Applies a PATCH body of the given content type; `custom` kinds refuse strategic merge. */
export function applyPatch(target: Json, body: Json, contentType: string, custom: boolean): Json {
  const type = contentType.split(';')[0]?.trim() ?? '';
  if (type === 'application/json-patch+json') return jsonPatch(target, body);
  if (type === 'application/merge-patch+json') return mergePatch(target, body);
  if (type === 'application/strategic-merge-patch+json' && !custom) return mergePatch(target, body);
  const accepted = custom ? PATCH_TYPES.slice(0, 2) : PATCH_TYPES;
  throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}
