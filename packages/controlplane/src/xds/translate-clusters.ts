// MeshModel -> clusters and their endpoints: one per service port and subset (and one for the
// whole service), the same for every proxy of a model. A subset's cluster carries its
// effective traffic policy: each section it sets, else the service's.
import { ResourceType, weft } from '@weft/proto';
import type { MeshModel } from '../model/mesh-model.ts';
import { selects } from '../model/mtls-mode.ts';
import { effectiveTrafficPolicy, type Subset } from '../resources/destination-policy.ts';
import {
  NO_TRAFFIC_POLICY,
  type ConnectionPoolSettings,
  type LoadBalancerSettings,
  type OutlierDetectionSettings,
  type RetryBudgetSettings,
  type SimpleLoadBalancer,
  type TrafficPolicy,
} from '../resources/traffic-policy.ts';
import type { Protocol } from '../resources/workload.ts';
import { ResourceSetBuilder, type ResourceSet } from './snapshot.ts';

const config = weft.config.v1;

/** Istio's naming, so operators recognise it: outbound|8080|v1|orders.default.svc.cluster.local */
export function clusterName(hostname: string, port: number, subset: string | undefined): string {
  return `outbound|${port}|${subset ?? ''}|${hostname}`;
}

export const PROTOCOL: Record<Protocol, weft.config.v1.Protocol> = {
  HTTP: config.Protocol.HTTP,
  HTTP2: config.Protocol.HTTP2,
  GRPC: config.Protocol.GRPC,
  TCP: config.Protocol.TCP,
};

const SIMPLE_LB_POLICY: Record<SimpleLoadBalancer, weft.config.v1.LbPolicy> = {
  ROUND_ROBIN: config.LbPolicy.ROUND_ROBIN,
  LEAST_REQUEST: config.LbPolicy.LEAST_REQUEST,
  RANDOM: config.LbPolicy.RANDOM,
};

function lbPolicy(loadBalancer: LoadBalancerSettings | undefined): weft.config.v1.LbPolicy {
  if (!loadBalancer) return config.LbPolicy.ROUND_ROBIN;
  return loadBalancer.kind === 'simple' ? SIMPLE_LB_POLICY[loadBalancer.policy] : config.LbPolicy.RING_HASH;
}

function consistentHash(loadBalancer: LoadBalancerSettings | undefined): weft.config.v1.ConsistentHash.$Properties | undefined {
  if (loadBalancer?.kind !== 'consistentHash') return undefined;
  const { key } = loadBalancer;
  const keyField = key.kind === 'header' ? { headerName: key.name } : key.kind === 'cookie' ? { cookieName: key.name } : { useSourceIp: true };
  return { ...keyField, minimumRingSize: loadBalancer.minimumRingSize ?? 0 };
}

/** Unset limits are 0, which the proxy reads as "no limit" (or its default timeout). */
function connectionPool(pool: ConnectionPoolSettings | undefined): weft.config.v1.ConnectionPool.$Properties | undefined {
  if (!pool) return undefined;
  return {
    maxConnections: pool.maxConnections ?? 0,
    connectTimeoutMs: pool.connectTimeoutMs ?? 0,
    maxPendingRequests: pool.http1MaxPendingRequests ?? 0,
    maxRequests: pool.http2MaxRequests ?? 0,
    maxRequestsPerConnection: pool.maxRequestsPerConnection ?? 0,
    maxRetries: pool.maxRetries ?? 0,
    idleTimeoutMs: pool.idleTimeoutMs ?? 0,
  };
}

function outlierDetection(settings: OutlierDetectionSettings | undefined): weft.config.v1.OutlierDetection.$Properties | undefined {
  if (!settings) return undefined;
  return {
    consecutive_5xx: settings.consecutive5xxErrors,
    consecutiveGatewayErrors: settings.consecutiveGatewayErrors,
    intervalMs: settings.intervalMs,
    baseEjectionTimeMs: settings.baseEjectionTimeMs,
    maxEjectionPercent: settings.maxEjectionPercent,
    minHealthPercent: settings.minHealthPercent,
  };
}

function retryBudget(budget: RetryBudgetSettings | undefined): weft.config.v1.RetryBudget.$Properties | undefined {
  return budget && { budgetPercent: budget.percent, minRetryConcurrency: budget.minRetryConcurrency };
}

function policyFields(policy: TrafficPolicy): Partial<weft.config.v1.Cluster.$Properties> {
  return {
    lbPolicy: lbPolicy(policy.loadBalancer),
    consistentHash: consistentHash(policy.loadBalancer),
    connectionPool: connectionPool(policy.connectionPool),
    outlierDetection: outlierDetection(policy.outlierDetection),
    retryBudget: retryBudget(policy.retryBudget),
  };
}

function spiffeId(model: MeshModel, namespace: string, serviceAccount: string): string {
  return `spiffe://${model.settings.trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

export function clustersAndEndpoints(model: MeshModel): { clusters: ResourceSet; endpoints: ResourceSet } {
  const clusters = new ResourceSetBuilder(ResourceType.cluster);
  const endpoints = new ResourceSetBuilder(ResourceType.endpoints);
  for (const service of model.services.values()) {
    const policy = model.destinationPolicies.get(service.hostname);
    const subsets: (Subset | undefined)[] = [undefined, ...(policy?.subsets ?? [])];
    for (const port of service.ports) {
      for (const subset of subsets) {
        const name = clusterName(service.hostname, port.port, subset?.name);
        const members = service.endpoints.filter((endpoint) => endpoint.targetPorts.has(port.port) && (!subset || selects(subset.labels, endpoint.labels)));
        clusters.add(name, {
          name,
          service: service.hostname,
          port: port.port,
          subset: subset?.name ?? '',
          protocol: PROTOCOL[port.protocol],
          ...policyFields(policy ? effectiveTrafficPolicy(policy, subset) : NO_TRAFFIC_POLICY),
          peerIdentities: [...new Set(members.map((member) => spiffeId(model, service.namespace, member.serviceAccount)))].sort(),
        });
        endpoints.add(name, {
          clusterName: name,
          endpoints: members.map((member) => ({
            address: member.address,
            port: member.targetPorts.get(port.port),
            labels: member.labels,
            weight: 1,
            ready: member.ready,
            workload: member.workload,
            proxyAddress: member.proxyAddress ?? '',
            mtls: member.mtls,
          })),
        });
      }
    }
  }
  return { clusters: clusters.build(), endpoints: endpoints.build() };
}
