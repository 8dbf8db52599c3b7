// TEST DOUBLE support (not a Kubernetes API server): objects, one global resourceVersion
// counter (like etcd's revision) and a per-kind change history that watches replay from.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ApiError } from './errors.ts';
import { apiVersionOf, qualifiedName, type ResourceDef } from './resources.ts';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    generateName?: string;
    resourceVersion?: string;
    generation?: number;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    creationTimestamp?: string;
    ownerReferences?: unknown[];
  };
  [key: string]: unknown;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One write, as watches see it: `previous` lets a selector-filtered watch turn MODIFIED into ADDED/DELETED. */
export interface Change {
  readonly resource: ResourceDef;
  readonly type: EventType;
  readonly revision: number;
  readonly object: KubeObject;
  readonly previous: KubeObject | undefined;
}

/**
 * Where `.status` of the stored object comes from on a write:
 * - take-incoming: the request body (kinds without a status subresource);
 * - keep-stored: the stored object (main endpoint of a kind with a status subresource);
 * - keep-if-absent: the body if it has a `status` key, else the stored one (the apply() helper);
 * - status-only: the `/status` subresource: only `.status` changes, from the body.
 */
export type StatusRule = 'take-incoming' | 'keep-stored' | 'keep-if-absent' | 'status-only';

export interface WriteOptions {
  readonly statusRule: StatusRule;
  /** Custom resources refuse an update without metadata.resourceVersion (422), as the real server does. */
  readonly requireResourceVersion?: boolean;
}

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Everything generation tracks: all but metadata and status (and the type fields). */
function specPart(object: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = object;
  return rest;
}

function withoutVersion(object: KubeObject): KubeObject {
  const copy = structuredClone(object);
  delete copy.metadata.resourceVersion;
  return copy;
}

function pickStatus(rule: StatusRule, incoming: KubeObject, stored: KubeObject | undefined): unknown {
  if (rule === 'take-incoming') return incoming['status'];
  if (rule === 'keep-stored') return stored?.['status'];
  if (rule === 'keep-if-absent') return 'status' in incoming ? incoming['status'] : stored?.['status'];
  return incoming['status'];
}

function setStatus(object: KubeObject, status: unknown): void {
  if (status === undefined) delete object['status'];
  else object['status'] = structuredClone(status);
}

function randomSuffix(): string {
  return randomUUID().replaceAll('-', '').slice(0, 5);
}

export class Store {
  private revision = 0;
  private compactedRevision = 0;
  private readonly objects = new Map<ResourceDef, Map<string, KubeObject>>();
  private readonly history = new Map<ResourceDef, Change[]>();
  private readonly listeners = new Set<(change: Change) => void>();

  /** The current global resourceVersion, as lists report it. */
  get resourceVersion(): number {
    return this.revision;
  }

  /** Watches from a resourceVersion older than this get 410 Gone. */
  get compacted(): number {
    return this.compactedRevision;
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  find(resource: ResourceDef, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.bucket(resource).get(keyOf(namespace, name));
    return found === undefined ? undefined : structuredClone(found);
  }

  /** Sorted by namespace then name, as etcd returns keys. */
  all(resource: ResourceDef, namespace?: string): KubeObject[] {
    return [...this.bucket(resource).entries()]
      .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => structuredClone(o));
  }

  /** Changes to `resource` after `revision`, oldest first. */
  changesSince(resource: ResourceDef, revision: number): Change[] {
    return (this.history.get(resource) ?? []).filter((c) => c.revision > revision);
  }

  /** Forgets history: every resourceVersion handed out so far becomes too old to watch from. */
  compact(): void {
    this.revision++;
    this.compactedRevision = this.revision;
    this.history.clear();
  }

  create(resource: ResourceDef, incoming: KubeObject, options: WriteOptions): KubeObject {
    const name = incoming.metadata.name || (incoming.metadata.generateName ? incoming.metadata.generateName + randomSuffix() : '');
    if (name === '') throw ApiError.invalid(`${resource.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, { kind: resource.plural });
    const namespace = incoming.metadata.namespace;
    if (this.bucket(resource).has(keyOf(namespace, name))) {
      throw new ApiError(409, 'AlreadyExists', `${qualifiedName(resource)} "${name}" already exists`, { name, group: resource.group, kind: resource.plural });
    }
    const object = structuredClone(incoming);
    object.apiVersion = apiVersionOf(resource);
    object.kind = resource.kind;
    setStatus(object, pickStatus(options.statusRule, incoming, undefined));
    object.metadata = { ...object.metadata, name, uid: randomUUID(), creationTimestamp: timestamp(), generation: 1 };
    return this.commit(resource, 'ADDED', object, undefined);
  }

  update(resource: ResourceDef, incoming: KubeObject, options: WriteOptions): KubeObject {
    const { namespace, name } = incoming.metadata;
    const stored = this.bucket(resource).get(keyOf(namespace, name));
    if (stored === undefined) throw ApiError.notFound(`${qualifiedName(resource)} "${name}" not found`, { name, group: resource.group, kind: resource.plural });
    this.checkPrecondition(resource, incoming, stored, options);
    const object = options.statusRule === 'status-only' ? structuredClone(stored) : structuredClone(incoming);
    object.apiVersion = apiVersionOf(resource);
    object.kind = resource.kind;
    setStatus(object, pickStatus(options.statusRule, incoming, stored));
    const specChanged = !isDeepStrictEqual(specPart(object), specPart(stored));
    object.metadata = {
      ...object.metadata,
      uid: stored.metadata.uid,
      creationTimestamp: stored.metadata.creationTimestamp,
      generation: (stored.metadata.generation ?? 1) + (specChanged ? 1 : 0),
      resourceVersion: stored.metadata.resourceVersion,
    };
    // The real server skips writes that change nothing: no new resourceVersion, no event.
    if (isDeepStrictEqual(withoutVersion(object), withoutVersion(stored))) return structuredClone(stored);
    return this.commit(resource, 'MODIFIED', object, stored);
  }

  remove(resource: ResourceDef, namespace: string | undefined, name: string): KubeObject {
    const stored = this.bucket(resource).get(keyOf(namespace, name));
    if (stored === undefined) throw ApiError.notFound(`${qualifiedName(resource)} "${name}" not found`, { name, group: resource.group, kind: resource.plural });
    return this.commit(resource, 'DELETED', structuredClone(stored), stored);
  }

  private checkPrecondition(resource: ResourceDef, incoming: KubeObject, stored: KubeObject, options: WriteOptions): void {
    const wanted = incoming.metadata.resourceVersion;
    if (wanted === undefined || wanted === '') {
      if (options.requireResourceVersion === true) {
        throw ApiError.invalid(`${resource.kind}.${resource.group} "${stored.metadata.name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`, {
          name: stored.metadata.name,
          group: resource.group,
          kind: resource.kind,
        });
      }
      return;
    }
    if (wanted !== stored.metadata.resourceVersion) {
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedName(resource)} "${stored.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name: stored.metadata.name, group: resource.group, kind: resource.plural },
      );
    }
  }

  private commit(resource: ResourceDef, type: EventType, object: KubeObject, previous: KubeObject | undefined): KubeObject {
    this.revision++;
    object.metadata.resourceVersion = String(this.revision);
    const key = keyOf(object.metadata.namespace, object.metadata.name);
    if (type === 'DELETED') this.bucket(resource).delete(key);
    else this.bucket(resource).set(key, object);
    const change: Change = { resource, type, revision: this.revision, object: structuredClone(object), previous };
    let changes = this.history.get(resource);
    if (changes === undefined) this.history.set(resource, (changes = [] as Change[]));
    changes.push(change);
    for (const listener of this.listeners) listener(change);
    return structuredClone(object);
  }

  private bucket(resource: ResourceDef): Map<string, KubeObject> {
    let objects = this.objects.get(resource);
    if (objects === undefined) this.objects.set(resource, (objects = new Map<string, KubeObject>()));
    return objects;
  }
}
