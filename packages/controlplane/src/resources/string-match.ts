// Istio's StringMatch: exactly one of exact, prefix, regex.
import type { Field } from '../registry/field.ts';

export type StringMatch =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'regex'; readonly value: string };

export function parseStringMatch(field: Field): StringMatch {
  field.object(['exact', 'prefix', 'regex']);
  const kind = field.oneOf(['exact', 'prefix', 'regex'] as const);
  const value = kind === 'regex' ? field.get(kind).regex() : field.get(kind).string();
  return Object.freeze({ kind, value });
}
