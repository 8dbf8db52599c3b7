// A route's header edits (Istio Headers): set, add or remove headers of the request on its way
// to the destination and of the response on its way back.
import type { Field } from '../registry/field.ts';
import { editableHeaderName, headerValue } from './http-names.ts';

export interface HeaderOperations {
  /** Replace these headers (or add them when absent). */
  readonly set: Readonly<Record<string, string>>;
  /** Append these values to whatever is there. */
  readonly add: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
}

export interface HeaderEdits {
  readonly request: HeaderOperations | undefined;
  readonly response: HeaderOperations | undefined;
}

function parseValues(field: Field): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, value] of field.entries().sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    out[editableHeaderName(name, value)] = headerValue(value);
  }
  return Object.freeze(out);
}

function parseOperations(field: Field): HeaderOperations {
  field.object(['set', 'add', 'remove']);
  const remove = field.get('remove').list().map((item) => editableHeaderName(item.string(), item));
  return Object.freeze({ set: parseValues(field.get('set')), add: parseValues(field.get('add')), remove: Object.freeze([...new Set(remove)]) });
}

export function parseHeaderEdits(field: Field): HeaderEdits {
  field.object(['request', 'response']);
  const request = field.get('request');
  const response = field.get('response');
  return Object.freeze({
    request: request.present ? parseOperations(request) : undefined,
    response: response.present ? parseOperations(response) : undefined,
  });
}
