// DestinationPolicy: what happens after routing picked a service — its subsets (by labels)
// and how traffic to their endpoints is handled. Istio DestinationRule in shape.
import { quote, type Field } from '../registry/field.ts';
import { parseObjectMeta, type ObjectMeta } from './object-meta.ts';
import { mergeTrafficPolicy, parseTrafficPolicy, type TrafficPolicy } from './traffic-policy.ts';

export interface Subset {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** As written; see effectiveTrafficPolicy for what applies. */
  readonly trafficPolicy: TrafficPolicy;
}

export interface DestinationPolicy {
  readonly meta: ObjectMeta;
  readonly host: string;
  readonly trafficPolicy: TrafficPolicy;
  readonly subsets: readonly Subset[];
}

/** The policy in force for a subset (or, without one, the whole service). */
export function effectiveTrafficPolicy(policy: DestinationPolicy, subset: Subset | undefined): TrafficPolicy {
  return mergeTrafficPolicy(policy.trafficPolicy, subset?.trafficPolicy);
}

export function parseDestinationPolicy(doc: Field): DestinationPolicy {
  doc.object(['apiVersion', 'kind', 'metadata', 'spec']);
  const meta = parseObjectMeta(doc.get('metadata'));
  const spec = doc.get('spec').object(['host', 'trafficPolicy', 'subsets']);
  const names = new Set<string>();
  const subsets = spec.get('subsets').list().map((subset): Subset => {
    subset.object(['name', 'labels', 'trafficPolicy']);
    const name = subset.get('name').dnsLabel();
    if (names.has(name)) subset.get('name').fail(`subset ${quote(name)} is defined twice`);
    names.add(name);
    const labels = subset.get('labels').stringMap();
    if (Object.keys(labels).length === 0) subset.get('labels').fail('a subset needs at least one label');
    return Object.freeze({ name, labels, trafficPolicy: parseTrafficPolicy(subset.get('trafficPolicy')) });
  });
  return Object.freeze({
    meta,
    host: spec.get('host').hostname(),
    trafficPolicy: parseTrafficPolicy(spec.get('trafficPolicy')),
    subsets: Object.freeze(subsets),
  });
}
