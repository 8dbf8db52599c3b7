// The mesh as the control plane understands it: immutable, validated, cross-referenced. Both
// registries (file, Kubernetes) produce documents that `buildMeshModel` turns into this; the
// translator turns it into per-proxy resources.
import type { ModelSettings } from './build-mesh-model.ts';
import type { AccessPolicy } from '../resources/access-policy.ts';
import type { DestinationPolicy } from '../resources/destination-policy.ts';
import type { MeshAuthentication } from '../resources/mesh-authentication.ts';
import type { HttpRouteRule, TrafficRoute } from '../resources/traffic-route.ts';
import type { Protocol, Workload } from '../resources/workload.ts';

export interface ServicePort {
  readonly name: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface ServiceEndpoint {
  /** "<workload>.<namespace>" */
  readonly workload: string;
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: string;
  readonly ready: boolean;
  readonly proxyAddress: string | undefined;
  /** It has a sidecar, which accepts mesh mTLS. */
  readonly mtls: boolean;
  /** Where the endpoint listens, by service port number. */
  readonly targetPorts: ReadonlyMap<number, number>;
}

export interface Service {
  readonly name: string;
  readonly namespace: string;
  /** Fully qualified: "<name>.<namespace>.svc.<cluster domain>". */
  readonly hostname: string;
  readonly ports: readonly ServicePort[];
  readonly endpoints: readonly ServiceEndpoint[];
  /** Virtual IPs (ClusterIPs) callers connect to; empty for services derived from workloads. */
  readonly addresses: readonly string[];
}

/**
 * A service the registry declares on its own (a Kubernetes Service): it exists with its ports
 * even while no workload backs it, so routes to it stay valid when it scales to zero.
 */
export interface DeclaredService {
  readonly name: string;
  readonly namespace: string;
  readonly ports: readonly ServicePort[];
  /** Virtual IPs (ClusterIPs) that callers connect to; none for a headless service. */
  readonly addresses: readonly string[];
}

/** One subset (or the whole) of one service port: what a cluster is made of. */
export interface ResolvedTarget {
  readonly hostname: string;
  readonly port: number;
  readonly subset: string | undefined;
}

export interface ResolvedDestination extends ResolvedTarget {
  readonly weight: number;
}

export interface ResolvedMirror extends ResolvedTarget {
  readonly percentage: number;
}

export interface ResolvedRouteRule extends Omit<HttpRouteRule, 'destinations' | 'mirror'> {
  readonly destinations: readonly ResolvedDestination[];
  readonly mirror: ResolvedMirror | undefined;
}

/** A TrafficRoute whose hosts and destinations are resolved to services. */
export interface ResolvedTrafficRoute {
  readonly source: TrafficRoute;
  readonly rules: readonly ResolvedRouteRule[];
}

export interface MeshDocuments {
  /** Services with their ports; the file registry has none and derives services from workloads. */
  readonly declaredServices: readonly DeclaredService[];
  readonly workloads: readonly Workload[];
  readonly trafficRoutes: readonly TrafficRoute[];
  readonly destinationPolicies: readonly DestinationPolicy[];
  readonly meshAuthentications: readonly MeshAuthentication[];
  readonly accessPolicies: readonly AccessPolicy[];
}

export interface MeshModel {
  readonly settings: ModelSettings;
  /** By hostname. */
  readonly services: ReadonlyMap<string, Service>;
  /** By "<workload>.<namespace>". */
  readonly workloads: ReadonlyMap<string, Workload>;
  /** By the hostname of the service they route. */
  readonly trafficRoutes: ReadonlyMap<string, ResolvedTrafficRoute>;
  /** By the hostname of the service they govern. */
  readonly destinationPolicies: ReadonlyMap<string, DestinationPolicy>;
  readonly meshAuthentications: readonly MeshAuthentication[];
  readonly accessPolicies: readonly AccessPolicy[];
}

export function workloadId(workload: Workload): string {
  return `${workload.meta.name}.${workload.meta.namespace}`;
}
