// The proxy's configuration: the last accepted set of each resource type. A response replaces
// its type's set as a whole, or not at all — one bad resource rejects the response and the
// previous set stays in force. Resources whose version did not change are not decoded again.
import { resourceKindsInPushOrder, type ResourceKind, type weft } from '@weft/proto';
import { decodeAccessPolicy, type AccessPolicyConfig } from './resources/access-policy.ts';
import { decodeCluster, type ClusterConfig } from './resources/cluster.ts';
import { decodeEndpoints, type EndpointsConfig } from './resources/endpoints.ts';
import { InvalidResourceError } from './resources/invalid-resource.ts';
import { decodeListener, type InboundListenerConfig } from './resources/listener.ts';
import { decodeRouteConfiguration, type VirtualHostConfig } from './resources/route.ts';
import { decodeTrustBundle, type TrustBundleConfig } from './resources/trust-bundle.ts';

export interface ConfigByKind {
  accessPolicy: AccessPolicyConfig;
  cluster: ClusterConfig;
  endpoints: EndpointsConfig;
  listener: InboundListenerConfig;
  route: VirtualHostConfig;
  trustBundle: TrustBundleConfig;
}

const DECODERS: { [K in ResourceKind]: (name: string, bytes: Uint8Array) => ConfigByKind[K] } = {
  accessPolicy: decodeAccessPolicy,
  cluster: decodeCluster,
  endpoints: decodeEndpoints,
  listener: decodeListener,
  route: decodeRouteConfiguration,
  trustBundle: decodeTrustBundle,
};

interface Versioned<T> {
  readonly version: string;
  readonly value: T;
}

export interface TypeState<K extends ResourceKind> {
  /** version_info of the accepted response; "" before the first. */
  readonly version: string;
  readonly resources: ReadonlyMap<string, Versioned<ConfigByKind[K]>>;
}

export type ConfigChangeListener = (kind: ResourceKind) => void;

export class ConfigStore {
  private readonly states = new Map<ResourceKind, TypeState<ResourceKind>>();
  private readonly listeners = new Set<ConfigChangeListener>();

  /** True once every resource type has been received at least once. */
  get complete(): boolean {
    return resourceKindsInPushOrder.every((kind) => this.states.has(kind));
  }

  version(kind: ResourceKind): string {
    return this.states.get(kind)?.version ?? '';
  }

  state<K extends ResourceKind>(kind: K): TypeState<K> {
    return (this.states.get(kind) ?? { version: '', resources: new Map() }) as TypeState<K>;
  }

  /** The decoded resources of one type, by name. */
  values<K extends ResourceKind>(kind: K): Map<string, ConfigByKind[K]> {
    return new Map([...this.state(kind).resources].map(([name, entry]) => [name, entry.value]));
  }

  get<K extends ResourceKind>(kind: K, name: string): ConfigByKind[K] | undefined {
    return this.state(kind).resources.get(name)?.value;
  }

  onChange(listener: ConfigChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Applies a complete set of resources of one kind.
   * @throws InvalidResourceError when any resource is invalid; nothing changes then.
   */
  apply(kind: ResourceKind, typeUrl: string, versionInfo: string, resources: readonly weft.discovery.v1.Resource.$Properties[]): void {
    const previous = this.state(kind).resources;
    const next = new Map<string, Versioned<ConfigByKind[typeof kind]>>();
    for (const resource of resources) {
      const name = resource.name ?? '';
      if (name === '') throw new InvalidResourceError('(unnamed)', 'resource has no name');
      if (next.has(name)) throw new InvalidResourceError(name, 'resource appears twice in one response');
      const version = resource.version ?? '';
      const known = previous.get(name);
      if (known && version !== '' && known.version === version) {
        next.set(name, known);
        continue;
      }
      const any = resource.resource;
      if (!any || any.type_url !== typeUrl) throw new InvalidResourceError(name, `expected a ${typeUrl}, got ${any?.type_url ?? 'nothing'}`);
      try {
        next.set(name, { version, value: DECODERS[kind](name, any.value ?? new Uint8Array()) });
      } catch (error) {
        if (error instanceof InvalidResourceError) throw error;
        throw new InvalidResourceError(name, `cannot decode: ${(error as Error).message}`);
      }
    }
    this.states.set(kind, { version: versionInfo, resources: next });
    for (const listener of this.listeners) listener(kind);
  }
}
