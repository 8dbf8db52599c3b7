// TEST DOUBLE support (not a Kubernetes API server): the resource kinds the double serves and
// how a REST path names one of them, following the API server's URL layout.
import { ApiError } from './errors.ts';

export interface ResourceDef {
  readonly group: string; // '' for the core group
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Has a `/status` subresource: the main endpoints ignore `.status`, only `/status` writes it. */
  readonly statusSubresource: boolean;
  /** A custom resource (CRD): list items keep apiVersion/kind, strategic merge patch is refused. */
  readonly custom: boolean;
}

function def(group: string, version: string, plural: string, kind: string, namespaced: boolean, statusSubresource = false, custom = false): ResourceDef {
  return { group, version, plural, kind, namespaced, statusSubresource, custom };
}

const MESH = 'mesh.weft.dev';

/** The kinds Weft reads or writes. More can be added with KubeApiDouble.addResource(). */
export const DEFAULT_RESOURCES: readonly ResourceDef[] = [
  def('', 'v1', 'namespaces', 'Namespace', false, true),
  def('', 'v1', 'services', 'Service', true, true),
  def('', 'v1', 'pods', 'Pod', true, true),
  def('', 'v1', 'configmaps', 'ConfigMap', true),
  def('', 'v1', 'secrets', 'Secret', true),
  def('', 'v1', 'serviceaccounts', 'ServiceAccount', true),
  def('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  def('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  def('admissionregistration.k8s.io', 'v1', 'mutatingwebhookconfigurations', 'MutatingWebhookConfiguration', false),
  def('admissionregistration.k8s.io', 'v1', 'validatingwebhookconfigurations', 'ValidatingWebhookConfiguration', false),
  def(MESH, 'v1alpha1', 'trafficroutes', 'TrafficRoute', true, true, true),
  def(MESH, 'v1alpha1', 'destinationpolicies', 'DestinationPolicy', true, true, true),
  def(MESH, 'v1alpha1', 'meshauthentications', 'MeshAuthentication', true, true, true),
  def(MESH, 'v1alpha1', 'accesspolicies', 'AccessPolicy', true, true, true),
];

export function apiVersionOf(resource: ResourceDef): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`;
}

/** "services" or "leases.coordination.k8s.io", as the API server names resources in messages. */
export function qualifiedName(resource: ResourceDef): string {
  return resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`;
}

export class ResourceTable {
  private readonly resources: ResourceDef[] = [];

  constructor(initial: readonly ResourceDef[]) {
    for (const resource of initial) this.add(resource);
  }

  add(resource: ResourceDef): void {
    this.resources.push(resource);
  }

  byKind(apiVersion: string, kind: string): ResourceDef {
    const found = this.resources.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
    if (found === undefined) throw new Error(`kube-api-double: unknown kind ${apiVersion} ${kind} (add it with addResource)`);
    return found;
  }

  byPlural(group: string, version: string, plural: string): ResourceDef | undefined {
    return this.resources.find((r) => r.group === group && r.version === version && r.plural === plural);
  }

  inGroupVersion(group: string, version: string): ResourceDef[] {
    return this.resources.filter((r) => r.group === group && r.version === version);
  }
}

/** What a request path addresses. `resource` is undefined for the group-version root (discovery). */
export interface ResourcePath {
  readonly group: string;
  readonly version: string;
  readonly plural: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
  /** The deprecated `/watch/` path style (`/api/v1/watch/namespaces/x/services`). */
  readonly watchPrefix: boolean;
}

/** Splits `/api/v1/...` or `/apis/{group}/{version}/...`; undefined when the path is neither. */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segments = pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
  let group: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 2) {
    group = '';
    rest = segments.slice(1);
  } else if (segments[0] === 'apis' && segments.length >= 3) {
    group = segments[1] ?? '';
    rest = segments.slice(2);
  } else {
    return undefined;
  }
  const version = rest[0] ?? '';
  let tail = rest.slice(1);
  const watchPrefix = tail[0] === 'watch';
  if (watchPrefix) tail = tail.slice(1);
  return { group, version, watchPrefix, ...splitTail(tail) };
}

type Tail = Pick<ResourcePath, 'plural' | 'namespace' | 'name' | 'subresource'>;

// `namespaces/{ns}/{plural}/...` is a namespaced resource, but `namespaces/{name}/status` (and
// `/finalize`) are subresources of the cluster-scoped Namespace itself.
function splitTail(tail: string[]): Tail {
  const namespacedForm = tail[0] === 'namespaces' && tail.length >= 3 && tail[2] !== 'status' && tail[2] !== 'finalize';
  if (namespacedForm) {
    if (tail.length > 5) throw ApiError.notFound('the server could not find the requested resource');
    return { namespace: tail[1], plural: tail[2], name: tail[3], subresource: tail[4] };
  }
  if (tail.length > 3) throw ApiError.notFound('the server could not find the requested resource');
  return { namespace: undefined, plural: tail[0], name: tail[1], subresource: tail[2] };
}
