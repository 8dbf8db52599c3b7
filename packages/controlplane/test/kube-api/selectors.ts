// TEST DOUBLE support (not a Kubernetes API server): label and field selectors as list and
// watch requests send them. Labels: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`,
// `a notin (x,y)`. Fields: `path=value`, `path==value`, `path!=value` on any dotted path (the
// real server allows only a few fields per kind; accepting more is harmless in tests).
import { ApiError } from './errors.ts';
import type { KubeObject } from './store.ts';

export type Selector = (object: KubeObject) => boolean;

const MATCH_ALL: Selector = () => true;

/** Splits on commas outside parentheses, so `a in (x,y),b=c` is two requirements. */
function requirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

type Lookup = (object: KubeObject, key: string) => string | undefined;

function labelValue(object: KubeObject, key: string): string | undefined {
  return object.metadata.labels?.[key];
}

function fieldValue(object: KubeObject, path: string): string | undefined {
  let value: unknown = object;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function equality(requirement: string, lookup: Lookup): Selector | undefined {
  const match = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(requirement);
  if (match === null) return undefined;
  const [, key = '', op, value] = match;
  if (op === '!=') return (o) => lookup(o, key) !== value;
  return (o) => lookup(o, key) === value;
}

function setBased(requirement: string, lookup: Lookup): Selector | undefined {
  const match = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(requirement);
  if (match === null) return undefined;
  const [, key = '', op, list = ''] = match;
  const values = new Set(list.split(',').map((v) => v.trim()));
  if (op === 'in') return (o) => values.has(lookup(o, key) ?? '\u0000absent');
  return (o) => !values.has(lookup(o, key) ?? '\u0000absent');
}

function existence(requirement: string, lookup: Lookup): Selector | undefined {
  const match = /^(!?)([A-Za-z0-9._/-]+)$/.exec(requirement);
  if (match === null) return undefined;
  const [, negated, key = ''] = match;
  return negated === '!' ? (o) => lookup(o, key) === undefined : (o) => lookup(o, key) !== undefined;
}

function all(selectors: Selector[]): Selector {
  return (o) => selectors.every((s) => s(o));
}

export function labelSelector(text: string | null): Selector {
  if (text === null || text.trim() === '') return MATCH_ALL;
  return all(
    requirements(text).map((r) => {
      const selector = equality(r, labelValue) ?? setBased(r, labelValue) ?? existence(r, labelValue);
      if (selector === undefined) throw ApiError.badRequest(`unable to parse requirement: ${r}`);
      return selector;
    }),
  );
}

export function fieldSelector(text: string | null): Selector {
  if (text === null || text.trim() === '') return MATCH_ALL;
  return all(
    requirements(text).map((r) => {
      const selector = equality(r, fieldValue);
      if (selector === undefined) throw ApiError.badRequest(`invalid field selector: ${r}`);
      return selector;
    }),
  );
}
