// The JSON a proxy's admin endpoint serves (/config_dump, /clusters), as the CLI reads it. The
// config types are the proxy's own; functions (compiled matchers) do not survive JSON.
import type { ClusterConfig, IdentityStatus, RouteConfig, VirtualHostConfig } from '@weft/proxy';

export interface ConfigSection<T> {
  readonly version: string;
  readonly resources: Readonly<Record<string, { readonly version: string; readonly config: T }>>;
}

export interface VirtualHostJson extends Omit<VirtualHostConfig, 'routes'> {
  readonly routes: readonly Omit<RouteConfig, 'matches'>[];
}

export interface ConfigDump {
  readonly node: { readonly workload: string; readonly namespace: string };
  readonly certificate: IdentityStatus | null;
  readonly configs: { readonly route: ConfigSection<VirtualHostJson>; readonly cluster: ConfigSection<ClusterConfig> };
}

export interface EndpointJson {
  readonly address: string;
  readonly workload: string;
  readonly ready: boolean;
  readonly activeRequests: number;
  /** ISO time while ejected by outlier detection, else null. */
  readonly ejectedUntil: string | null;
  readonly ejections: number;
}

export interface ClustersJson {
  readonly clusters: readonly { readonly name: string; readonly endpoints: readonly EndpointJson[] }[];
}
