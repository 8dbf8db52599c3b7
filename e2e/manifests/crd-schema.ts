// CRD schemas as the API server treats them, for tests that have no API server:
//  - structuralProblems(): the rules the API server applies before it accepts a CRD's
//    openAPIV3Schema (apiextensions-apiserver: pkg/apiserver/schema/validation.go and
//    complete.go, pkg/apis/apiextensions/validation), so a schema that passes here is not
//    refused at `kubectl apply`;
//  - CrdValidator: validates custom resources against a CRD's openAPIV3Schema with ajv, with
//    the API server's semantics: null fields pruned first, unknown fields refused (kubectl's
//    default strict field validation; other clients would see them pruned), OpenAPI v3.0's
//    boolean exclusiveMinimum/Maximum, Kubernetes formats, and x-kubernetes-list-type map/set
//    uniqueness.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { KubeObject } from './load.ts';

export type Schema = Record<string, unknown>;

const JUNCTORS = ['allOf', 'anyOf', 'oneOf'] as const;
/** Forbidden anywhere in a CRD schema (v1). */
const UNSUPPORTED = ['$ref', '$schema', 'id', 'additionalItems', 'patternProperties', 'definitions', 'dependencies'];
/** Forbidden inside allOf/anyOf/oneOf/not: structure belongs outside value validations. */
const NOT_IN_JUNCTORS = ['type', 'additionalProperties', 'default', 'title', 'description', 'nullable', 'externalDocs', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string', 'x-kubernetes-list-map-keys', 'x-kubernetes-list-type', 'x-kubernetes-map-type', 'x-kubernetes-validations'];
/** JavaScript regex syntax Go's RE2 (which the API server uses for `pattern`) does not have. */
const NOT_RE2 = [/\(\?[=!]/, /\(\?<[=!]/, /\\[1-9]/, /\(\?<[A-Za-z]/, /\\k</];

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function branches(node: Schema): Schema[] {
  return [...JUNCTORS.flatMap((junctor) => (Array.isArray(node[junctor]) ? (node[junctor] as Schema[]) : [])), ...(isSchema(node.not) ? [node.not] : [])];
}

function properties(node: Schema): Record<string, Schema> {
  return isSchema(node.properties) ? (node.properties as Record<string, Schema>) : {};
}

/** Problems that would make the API server refuse `schema` as a CRD's openAPIV3Schema. */
export function structuralProblems(schema: Schema): string[] {
  const problems: string[] = [];
  const add = (path: string, problem: string): void => {
    problems.push(`${path}: ${problem}`);
  };

  const common = (node: Schema, path: string): void => {
    for (const key of UNSUPPORTED) if (key in node) add(path, `${key} is not supported`);
    if (node.uniqueItems === true) add(path, 'uniqueItems cannot be true');
    if (node.type === 'null') add(path, 'type null is not allowed (use nullable)');
    if (Array.isArray(node.items)) add(path, 'items must be one schema, not a list');
    if (node['x-kubernetes-preserve-unknown-fields'] === false) add(path, 'x-kubernetes-preserve-unknown-fields must be true or absent');
    if (typeof node.pattern === 'string') {
      try {
        new RegExp(node.pattern, 'u');
      } catch (error) {
        add(path, `pattern does not compile: ${(error as Error).message}`);
      }
      if (NOT_RE2.some((syntax) => syntax.test(node.pattern as string))) add(path, `pattern ${node.pattern} uses syntax Go's RE2 lacks (lookaround, backreferences)`);
    }
  };

  // A value validation (inside a junctor): no structure of its own.
  const nested = (node: Schema, path: string): void => {
    common(node, path);
    for (const key of NOT_IN_JUNCTORS) if (key in node) add(path, `${key} must not be set inside allOf, anyOf, oneOf or not`);
    if ('metadata' in properties(node)) add(path, 'metadata must not be specified in a nested context');
    for (const [key, child] of Object.entries(properties(node))) nested(child, `${path}.properties.${key}`);
    if (isSchema(node.items)) nested(node.items, `${path}.items`);
    junctors(node, path);
  };

  const junctors = (node: Schema, path: string): void => {
    for (const junctor of JUNCTORS) {
      if (junctor in node) {
        if (!Array.isArray(node[junctor])) add(path, `${junctor} must be a list`);
        else for (const [index, branch] of (node[junctor] as Schema[]).entries()) nested(branch, `${path}.${junctor}[${index}]`);
      }
    }
    if (isSchema(node.not)) nested(node.not, `${path}.not`);
  };

  // Every property or items a junctor mentions must exist in the structure (complete.go).
  const complete = (validation: Schema, structure: Schema | undefined, path: string): void => {
    if (!structure) {
      add(path, 'specified inside allOf, anyOf, oneOf or not but not in the schema itself');
      return;
    }
    for (const [key, child] of Object.entries(properties(validation))) complete(child, properties(structure)[key], `${path}.properties.${key}`);
    if (isSchema(validation.items)) complete(validation.items, isSchema(structure.items) ? structure.items : undefined, `${path}.items`);
    for (const branch of branches(validation)) complete(branch, structure, path);
  };

  const structural = (node: Schema, path: string, level: 'root' | 'field' | 'item', isRootMetadata = false): void => {
    common(node, path);
    const untyped = node['x-kubernetes-preserve-unknown-fields'] === true || node['x-kubernetes-int-or-string'] === true;
    if (typeof node.type !== 'string' && !untyped) add(path, 'type must be set (or x-kubernetes-preserve-unknown-fields / x-kubernetes-int-or-string)');
    if (level === 'root' && node.type !== 'object') add(path, 'the root must be of type object');
    if (node.type === 'array' && !isSchema(node.items)) add(path, 'an array needs items');
    if ('properties' in node && 'additionalProperties' in node) add(path, 'additionalProperties and properties are mutually exclusive');
    if (level === 'root' && 'additionalProperties' in node) add(path, 'additionalProperties is not allowed at the root');
    if (node['x-kubernetes-list-type'] !== undefined) {
      if (node.type !== 'array') add(path, 'x-kubernetes-list-type needs type array');
      if (node['x-kubernetes-list-type'] === 'map') {
        const keys = node['x-kubernetes-list-map-keys'];
        const item = isSchema(node.items) ? node.items : {};
        if (!Array.isArray(keys) || keys.length === 0) add(path, 'x-kubernetes-list-type map needs x-kubernetes-list-map-keys');
        else {
          for (const key of keys as string[]) {
            const keySchema = properties(item)[key];
            if (!keySchema || keySchema.type === 'object' || keySchema.type === 'array') add(path, `list map key ${key} must be a scalar property of the items`);
            if (!(Array.isArray(item.required) && item.required.includes(key)) && !('default' in (keySchema ?? {}))) add(path, `list map key ${key} must be required`);
          }
        }
      }
    }
    if (isRootMetadata) {
      // Only name and generateName may be restricted, and nothing else said about metadata.
      const extra = Object.keys(node).filter((key) => key !== 'type' && key !== 'properties');
      if (extra.length > 0 || Object.keys(properties(node)).some((key) => key !== 'name' && key !== 'generateName')) add(path, 'metadata may only restrict name and generateName');
    }
    if (level === 'root') {
      for (const key of ['apiVersion', 'kind']) if (key in properties(node) && properties(node)[key]?.type !== 'string') add(`${path}.properties.${key}`, 'must be of type string');
    }
    for (const [key, child] of Object.entries(properties(node))) structural(child, `${path}.properties.${key}`, 'field', level === 'root' && key === 'metadata');
    if (isSchema(node.items)) structural(node.items, `${path}.items`, 'item');
    if (isSchema(node.additionalProperties)) structural(node.additionalProperties, `${path}.additionalProperties`, 'field');
    junctors(node, path);
    for (const branch of branches(node)) complete(branch, node, path);
  };

  structural(schema, 'openAPIV3Schema', 'root');
  return problems;
}

/** Every path (dotted) where the schema sets x-kubernetes-preserve-unknown-fields. */
export function preserveUnknownFieldsPaths(schema: Schema, path = ''): string[] {
  const out = schema['x-kubernetes-preserve-unknown-fields'] === true ? [path] : [];
  for (const [key, child] of Object.entries(properties(schema))) out.push(...preserveUnknownFieldsPaths(child, path === '' ? key : `${path}.${key}`));
  if (isSchema(schema.items)) out.push(...preserveUnknownFieldsPaths(schema.items, `${path}[]`));
  if (isSchema(schema.additionalProperties)) out.push(...preserveUnknownFieldsPaths(schema.additionalProperties, `${path}.*`));
  return out;
}

/** The schema as JSON Schema (draft-07) with the API server's semantics; see the header. */
export function toJsonSchema(node: Schema, level: 'root' | 'field' | 'nested' = 'root', isRootMetadata = false): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-') || key === 'nullable' || key === 'example' || key === 'externalDocs') continue;
    if (key === 'exclusiveMinimum' || key === 'exclusiveMaximum') continue;
    if (key === 'properties' && isSchema(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([name, child]) => [name, toJsonSchema(child as Schema, level === 'nested' ? 'nested' : 'field', level === 'root' && name === 'metadata')]));
    } else if ((key === 'items' || key === 'additionalProperties' || key === 'not') && isSchema(value)) {
      out[key] = toJsonSchema(value, key === 'not' || level === 'nested' ? 'nested' : 'field');
    } else if ((JUNCTORS as readonly string[]).includes(key) && Array.isArray(value)) {
      out[key] = value.map((branch) => toJsonSchema(branch as Schema, 'nested'));
    } else {
      out[key] = value;
    }
  }
  if (node.exclusiveMinimum === true) {
    out.exclusiveMinimum = node.minimum;
    delete out.minimum;
  }
  if (node.exclusiveMaximum === true) {
    out.exclusiveMaximum = node.maximum;
    delete out.maximum;
  }
  if (node.nullable === true && typeof node.type === 'string') out.type = [node.type, 'null'];
  const closed = node.type === 'object' && !('additionalProperties' in node) && node['x-kubernetes-preserve-unknown-fields'] !== true;
  if (isRootMetadata) out.additionalProperties = true; // ObjectMeta: the API server validates it itself
  else if (closed && level !== 'nested') out.additionalProperties = false;
  return out;
}

/** Removes null-valued fields of objects, as the API server prunes them (fields here are never nullable). */
export function pruneNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pruneNulls);
  if (!isSchema(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== null).map(([key, item]) => [key, pruneNulls(item)]));
}

/** Duplicate keys in x-kubernetes-list-type map lists, or duplicate values in set lists. */
function listTypeProblems(schema: Schema, value: unknown, path: string): string[] {
  const problems: string[] = [];
  if (Array.isArray(value)) {
    const listType = schema['x-kubernetes-list-type'];
    if (listType === 'map' || listType === 'set') {
      const keys = schema['x-kubernetes-list-map-keys'] as string[] | undefined;
      const seen = new Set<string>();
      for (const [index, item] of value.entries()) {
        const identity = JSON.stringify(listType === 'map' ? (keys ?? []).map((key) => (item as Record<string, unknown>)[key]) : item);
        if (seen.has(identity)) problems.push(`${path}[${index}]: duplicate entry ${identity} in a list of type ${listType}`);
        seen.add(identity);
      }
    }
    if (isSchema(schema.items)) for (const [index, item] of value.entries()) problems.push(...listTypeProblems(schema.items, item, `${path}[${index}]`));
  } else if (isSchema(value)) {
    for (const [key, item] of Object.entries(value)) {
      const child = properties(schema)[key] ?? (isSchema(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (child) problems.push(...listTypeProblems(child, item, path === '' ? key : `${path}.${key}`));
    }
  }
  return problems;
}

function formatErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => {
    const where = error.instancePath === '' ? '(object)' : error.instancePath.slice(1).replaceAll('/', '.');
    const extra = error.keyword === 'additionalProperties' ? ` "${(error.params as { additionalProperty: string }).additionalProperty}"` : '';
    return `${where}: ${error.message ?? error.keyword}${extra}`;
  });
}

const INT32 = { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 } as const;
const INT64 = { type: 'number', validate: (n: number) => Number.isSafeInteger(n) } as const;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export interface Crd {
  readonly group: string;
  readonly kind: string;
  readonly version: string;
  readonly schema: Schema;
}

/** The served versions of a CustomResourceDefinition object, with their schemas. */
export function crdVersions(crd: KubeObject): Crd[] {
  const spec = crd.spec as { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Schema } }[] };
  return spec.versions.map((version) => ({ group: spec.group, kind: spec.names.kind, version: version.name, schema: version.schema.openAPIV3Schema }));
}

/** Validates custom resources against CRD schemas, by apiVersion and kind. */
export class CrdValidator {
  private readonly ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, unicodeRegExp: true });
  private readonly validators = new Map<string, { schema: Schema; validate: ValidateFunction }>();

  constructor(crds: readonly KubeObject[]) {
    this.ajv.addFormat('int32', INT32);
    this.ajv.addFormat('int64', INT64);
    this.ajv.addFormat('date-time', DATE_TIME);
    for (const crd of crds) {
      for (const version of crdVersions(crd)) {
        this.validators.set(`${version.group}/${version.version}/${version.kind}`, { schema: version.schema, validate: this.ajv.compile(toJsonSchema(version.schema)) });
      }
    }
  }

  knows(object: KubeObject): boolean {
    return this.validators.has(`${object.apiVersion}/${object.kind}`);
  }

  /** Problems of `object` (empty when the API server would accept it). */
  validate(object: unknown): string[] {
    const { apiVersion, kind } = object as KubeObject;
    const entry = this.validators.get(`${apiVersion}/${kind}`);
    if (!entry) throw new Error(`no CRD for ${apiVersion} ${kind}`);
    const pruned = pruneNulls(object);
    if (entry.validate(pruned)) return listTypeProblems(entry.schema, pruned, '');
    return formatErrors(entry.validate.errors);
  }
}
