// The resource kinds a proxy is configured with: one type URL each, and how to encode and
// decode their bytes. Order matters: it is the order in which a push applies them (make
// before break: new roots are trusted before certificates they signed appear; clusters before
// the endpoints that fill them; access policies before the listeners they guard; routes last,
// once the clusters they point at exist).
import { weft } from '../gen/weft.js';

const config = weft.config.v1;

export interface Codec<T> {
  readonly typeUrl: string;
  encode(message: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

function codec<T>(
  fullName: string,
  type: { encode(message: T): { finish(): Uint8Array }; decode(bytes: Uint8Array): T },
): Codec<T> {
  return {
    typeUrl: `type.googleapis.com/${fullName}`,
    encode: (message) => type.encode(message).finish(),
    decode: (bytes) => type.decode(bytes),
  };
}

export const ResourceType = {
  cluster: codec<weft.config.v1.Cluster.$Properties>('weft.config.v1.Cluster', config.Cluster),
  endpoints: codec<weft.config.v1.ClusterLoadAssignment.$Properties>(
    'weft.config.v1.ClusterLoadAssignment',
    config.ClusterLoadAssignment,
  ),
  listener: codec<weft.config.v1.Listener.$Properties>('weft.config.v1.Listener', config.Listener),
  route: codec<weft.config.v1.RouteConfiguration.$Properties>(
    'weft.config.v1.RouteConfiguration',
    config.RouteConfiguration,
  ),
  trustBundle: codec<weft.config.v1.TrustBundle.$Properties>('weft.config.v1.TrustBundle', config.TrustBundle),
  accessPolicy: codec<weft.config.v1.AccessPolicy.$Properties>('weft.config.v1.AccessPolicy', config.AccessPolicy),
} as const;

export type ResourceKind = keyof typeof ResourceType;

/** Kinds in push order (see the file header). */
export const resourceKindsInPushOrder: readonly ResourceKind[] = [
  'trustBundle',
  'cluster',
  'endpoints',
  'accessPolicy',
  'listener',
  'route',
];

const kindByTypeUrl = new Map<string, ResourceKind>(
  resourceKindsInPushOrder.map((kind) => [ResourceType[kind].typeUrl, kind]),
);

export function resourceKindOf(typeUrl: string): ResourceKind | undefined {
  return kindByTypeUrl.get(typeUrl);
}

/**
 * Kinds an on-demand proxy (Node.on_demand) names resource by resource: routes by the authority
 * ("host:port") it was asked for, clusters and endpoints by cluster name. The other kinds are
 * already scoped to the proxy's own workload.
 */
export const onDemandResourceKinds: ReadonlySet<ResourceKind> = new Set<ResourceKind>(['route', 'cluster', 'endpoints']);
