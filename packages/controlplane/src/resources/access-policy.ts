// AccessPolicy: which callers may reach a workload — Istio AuthorizationPolicy in shape.
// ALLOW policies grant, DENY policies refuse and win; a request matches a rule when it matches
// one of its `from` sources (if any) and one of its `to` operations (if any).
import type { Field } from '../registry/field.ts';
import { parseObjectMeta, type ObjectMeta } from './object-meta.ts';

export const ACCESS_ACTIONS = ['ALLOW', 'DENY'] as const;
export type AccessAction = (typeof ACCESS_ACTIONS)[number];

export interface AccessSource {
  /** SPIFFE IDs or Istio-style "trust-domain/ns/NS/sa/SA" principals; "*" allowed at either end. */
  readonly principals: readonly string[];
  readonly namespaces: readonly string[];
}

export interface AccessOperation {
  readonly paths: readonly string[];
  readonly methods: readonly string[];
  readonly ports: readonly number[];
}

export interface AccessRule {
  readonly from: readonly AccessSource[];
  readonly to: readonly AccessOperation[];
}

export interface AccessPolicy {
  readonly meta: ObjectMeta;
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly action: AccessAction;
  readonly rules: readonly AccessRule[];
}

function strings(field: Field): readonly string[] {
  return Object.freeze(field.list().map((item) => item.string()));
}

export function parseAccessPolicy(doc: Field): AccessPolicy {
  doc.object(['apiVersion', 'kind', 'metadata', 'spec']);
  const meta = parseObjectMeta(doc.get('metadata'));
  const spec = doc.get('spec').object(['selector', 'action', 'rules']);
  const selector = spec.get('selector');
  if (selector.present) selector.object(['matchLabels']);
  const rules = spec.get('rules').list().map((rule): AccessRule => {
    rule.object(['from', 'to']);
    const from = rule.get('from').list().map((item): AccessSource => {
      const source = item.object(['source']).get('source').object(['principals', 'namespaces']);
      return Object.freeze({ principals: strings(source.get('principals')), namespaces: strings(source.get('namespaces')) });
    });
    const to = rule.get('to').list().map((item): AccessOperation => {
      const operation = item.object(['operation']).get('operation').object(['paths', 'methods', 'ports']);
      return Object.freeze({
        paths: strings(operation.get('paths')),
        methods: strings(operation.get('methods')),
        ports: Object.freeze(operation.get('ports').list().map((port) => port.port())),
      });
    });
    return Object.freeze({ from: Object.freeze(from), to: Object.freeze(to) });
  });
  return Object.freeze({
    meta,
    selector: selector.present ? selector.get('matchLabels').stringMap() : undefined,
    action: spec.get('action').present ? spec.get('action').choice(ACCESS_ACTIONS) : 'ALLOW',
    rules: Object.freeze(rules),
  });
}
