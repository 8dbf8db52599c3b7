// Decides which responses bring one proxy from the sets it was last sent to a new snapshot,
// make-before-break: additions and changes go out first in dependency order (clusters, their
// endpoints, listeners, routes), while resources about to disappear are kept; a second pass,
// in reverse order, then removes them — routes stop pointing at a cluster before it goes.
import { resourceKindsInPushOrder, type ResourceKind } from '@weft/proto';
import { ResourceSet } from './snapshot.ts';

export interface PlannedResponse {
  readonly kind: ResourceKind;
  readonly set: ResourceSet;
}

/**
 * @param sent   what each subscribed kind was last sent (undefined: subscribed, nothing sent yet)
 * @param target what each subscribed kind should hold now
 */
export function planPush(
  sent: ReadonlyMap<ResourceKind, ResourceSet | undefined>,
  target: ReadonlyMap<ResourceKind, ResourceSet>,
): PlannedResponse[] {
  const additions: PlannedResponse[] = [];
  const removals: PlannedResponse[] = [];
  for (const kind of resourceKindsInPushOrder) {
    const next = target.get(kind);
    if (!next) continue;
    const previous = sent.get(kind);
    if (previous?.version === next.version) continue;
    const leaving = previous ? [...previous.resources()].filter((resource) => !next.get(resource.name)) : [];
    if (leaving.length === 0) {
      additions.push({ kind, set: next });
      continue;
    }
    const kept = new ResourceSet(next.typeUrl, [...next.resources(), ...leaving]);
    if (kept.version !== previous?.version) additions.push({ kind, set: kept });
    removals.unshift({ kind, set: next });
  }
  return [...additions, ...removals];
}
