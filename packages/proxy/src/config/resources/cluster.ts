// Cluster resources: one subset of one service port, as the proxy uses it.
import { ResourceType } from '@weft/proto';
import { isSupportedPolicy } from '../../outbound/concrete/balancers.ts';
import { enumName, InvalidResourceError } from './invalid-resource.ts';
import { PROTOCOLS, type Protocol } from './listener.ts';

export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH';

const LB_POLICIES: Record<number, LbPolicy> = { 0: 'ROUND_ROBIN', 1: 'ROUND_ROBIN', 2: 'LEAST_REQUEST', 3: 'RANDOM', 4: 'RING_HASH' };

export interface ClusterConfig {
  readonly name: string;
  readonly service: string;
  readonly port: number;
  readonly subset: string;
  readonly protocol: Protocol;
  readonly lbPolicy: LbPolicy;
  readonly peerIdentities: readonly string[];
}

export function decodeCluster(name: string, bytes: Uint8Array): ClusterConfig {
  const cluster = ResourceType.cluster.decode(bytes);
  if (cluster.name !== name) throw new InvalidResourceError(name, `resource is named "${cluster.name ?? ''}" inside`);
  if (!cluster.service) throw new InvalidResourceError(name, 'cluster has no service');
  const lbPolicy = enumName(LB_POLICIES, cluster.lbPolicy, 'load balancer policy', name);
  if (!isSupportedPolicy(lbPolicy)) throw new InvalidResourceError(name, `load balancer policy ${lbPolicy} is not supported by this proxy`);
  return Object.freeze({
    name,
    service: cluster.service,
    port: cluster.port ?? 0,
    subset: cluster.subset ?? '',
    protocol: enumName(PROTOCOLS, cluster.protocol, 'protocol', name),
    lbPolicy,
    peerIdentities: Object.freeze([...(cluster.peerIdentities ?? [])]),
  });
}
