// The envelope every Weft document shares with Kubernetes objects: apiVersion, kind, metadata.
import type { Field } from '../registry/field.ts';

export const WEFT_API_VERSION = 'mesh.weft.dev/v1alpha1';

export interface ObjectMeta {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

export function parseObjectMeta(metadata: Field): ObjectMeta {
  metadata.object(['name', 'namespace', 'labels', 'annotations', 'uid', 'resourceVersion', 'generation', 'creationTimestamp']);
  return Object.freeze({
    name: metadata.get('name').dnsLabel(),
    namespace: metadata.get('namespace').present ? metadata.get('namespace').dnsLabel() : 'default',
    labels: metadata.get('labels').stringMap(),
  });
}

/** "namespace/name", the way operators and kubectl name an object. */
export function objectKey(meta: ObjectMeta): string {
  return `${meta.namespace}/${meta.name}`;
}
