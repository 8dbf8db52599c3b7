// The document kinds Weft reads, by `kind`: how to validate each and where it lands in
// MeshDocuments. The file registry and the Kubernetes registry both dispatch through this.
import type { MeshDocuments } from '../model/mesh-model.ts';
import type { Field } from '../registry/field.ts';
import { parseAccessPolicy } from './access-policy.ts';
import { parseDestinationPolicy } from './destination-policy.ts';
import { parseMeshAuthentication } from './mesh-authentication.ts';
import type { ObjectMeta } from './object-meta.ts';
import { parseTrafficRoute } from './traffic-route.ts';
import { parseWorkload } from './workload.ts';

type Collections = { -readonly [K in keyof MeshDocuments]: MeshDocuments[K][number][] };
/** Collections filled from documents; declared services come from a registry's own objects. */
type DocumentCollection = Exclude<keyof Collections, 'declaredServices'>;

interface DocumentKind<K extends DocumentCollection> {
  readonly collection: K;
  readonly parse: (doc: Field) => Collections[K][number];
}

function kind<K extends DocumentCollection>(collection: K, parse: (doc: Field) => Collections[K][number]): DocumentKind<K> {
  return { collection, parse };
}

export const DOCUMENT_KINDS = {
  Workload: kind('workloads', parseWorkload),
  TrafficRoute: kind('trafficRoutes', parseTrafficRoute),
  DestinationPolicy: kind('destinationPolicies', parseDestinationPolicy),
  MeshAuthentication: kind('meshAuthentications', parseMeshAuthentication),
  AccessPolicy: kind('accessPolicies', parseAccessPolicy),
} as const;

export type DocumentKindName = keyof typeof DOCUMENT_KINDS;

export const DOCUMENT_KIND_NAMES = Object.keys(DOCUMENT_KINDS) as DocumentKindName[];

/** Accumulates parsed documents by kind. */
export class DocumentCollector {
  private readonly collections: Collections = {
    declaredServices: [],
    workloads: [],
    trafficRoutes: [],
    destinationPolicies: [],
    meshAuthentications: [],
    accessPolicies: [],
  };

  /** Validates `doc` as `kindName` and keeps it; throws FieldError when it is invalid. */
  add(kindName: DocumentKindName, doc: Field): ObjectMeta {
    const { collection, parse } = DOCUMENT_KINDS[kindName] as DocumentKind<DocumentCollection>;
    const parsed = parse(doc);
    (this.collections[collection] as (typeof parsed)[]).push(parsed);
    return parsed.meta;
  }

  documents(): MeshDocuments {
    return this.collections;
  }
}
