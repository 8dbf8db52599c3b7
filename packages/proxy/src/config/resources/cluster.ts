// Cluster resources: one subset of one service port, as the proxy uses it.
import { ResourceType, type weft } from '@weft/proto';
import { isSupportedPolicy } from '../../outbound/concrete/balancers.ts';
import { enumName, InvalidResourceError, timerMs } from './invalid-resource.ts';
import { PROTOCOLS, type Protocol } from './listener.ts';

export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH';

const LB_POLICIES: Record<number, LbPolicy> = { 0: 'ROUND_ROBIN', 1: 'ROUND_ROBIN', 2: 'LEAST_REQUEST', 3: 'RANDOM', 4: 'RING_HASH' };

/** Limits of one cluster; undefined = no limit. Defaults follow Envoy/Istio where they have one. */
export interface ConnectionLimits {
  readonly maxConnections: number | undefined;
  readonly connectTimeoutMs: number;
  readonly maxPendingRequests: number | undefined;
  readonly maxRequests: number | undefined;
  readonly maxRequestsPerConnection: number | undefined;
  readonly maxRetries: number | undefined;
  readonly idleTimeoutMs: number;
}

export interface OutlierSettings {
  /** 0 disables the check. */
  readonly consecutive5xx: number;
  readonly consecutiveGatewayErrors: number;
  readonly intervalMs: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionPercent: number;
  readonly minHealthPercent: number;
}

export type HashKey = { readonly kind: 'header'; readonly name: string } | { readonly kind: 'cookie'; readonly name: string } | { readonly kind: 'source-ip' };

export interface ConsistentHashSettings {
  readonly key: HashKey;
  readonly ringSize: number;
}

export interface RetryBudgetSettings {
  readonly budgetPercent: number;
  readonly minRetryConcurrency: number;
}

export interface ClusterConfig {
  readonly name: string;
  readonly service: string;
  readonly port: number;
  readonly subset: string;
  readonly protocol: Protocol;
  readonly lbPolicy: LbPolicy;
  readonly peerIdentities: readonly string[];
  readonly limits: ConnectionLimits;
  readonly outlier: OutlierSettings | undefined;
  readonly consistentHash: ConsistentHashSettings | undefined;
  readonly retryBudget: RetryBudgetSettings;
}

const DEFAULTS = { connectTimeoutMs: 5000, idleTimeoutMs: 60_000, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionPercent: 10, ringSize: 1024, budgetPercent: 20, minRetryConcurrency: 3 };

const limit = (value: number | null | undefined): number | undefined => (value ? value : undefined);

function decodeLimits(pool: weft.config.v1.ConnectionPool.$Properties | null | undefined, name: string): ConnectionLimits {
  return Object.freeze({
    maxConnections: limit(pool?.maxConnections),
    connectTimeoutMs: timerMs(pool?.connectTimeoutMs, 'connect timeout', name) || DEFAULTS.connectTimeoutMs,
    maxPendingRequests: limit(pool?.maxPendingRequests),
    maxRequests: limit(pool?.maxRequests),
    maxRequestsPerConnection: limit(pool?.maxRequestsPerConnection),
    maxRetries: limit(pool?.maxRetries),
    idleTimeoutMs: timerMs(pool?.idleTimeoutMs, 'idle timeout', name) || DEFAULTS.idleTimeoutMs,
  });
}

function decodeOutlier(outlier: weft.config.v1.OutlierDetection.$Properties | null | undefined, name: string): OutlierSettings | undefined {
  if (!outlier || (!outlier.consecutive_5xx && !outlier.consecutiveGatewayErrors)) return undefined;
  const percent = (value: number | null | undefined, fallback: number, what: string): number => {
    const share = value ?? fallback;
    if (share > 100) throw new InvalidResourceError(name, `${what} ${share} is above 100`);
    return share;
  };
  return Object.freeze({
    consecutive5xx: outlier.consecutive_5xx ?? 0,
    consecutiveGatewayErrors: outlier.consecutiveGatewayErrors ?? 0,
    intervalMs: timerMs(outlier.intervalMs, 'outlier interval', name) || DEFAULTS.intervalMs,
    baseEjectionMs: timerMs(outlier.baseEjectionTimeMs, 'base ejection time', name) || DEFAULTS.baseEjectionMs,
    maxEjectionPercent: percent(outlier.maxEjectionPercent || undefined, DEFAULTS.maxEjectionPercent, 'max ejection percent'),
    minHealthPercent: percent(outlier.minHealthPercent, 0, 'min health percent'),
  });
}

function decodeConsistentHash(hash: weft.config.v1.ConsistentHash.$Properties | null | undefined, name: string): ConsistentHashSettings | undefined {
  if (!hash) return undefined;
  let key: HashKey;
  if (hash.headerName) key = { kind: 'header', name: hash.headerName.toLowerCase() };
  else if (hash.cookieName) key = { kind: 'cookie', name: hash.cookieName };
  else if (hash.useSourceIp) key = { kind: 'source-ip' };
  else throw new InvalidResourceError(name, 'consistent hash names no key (header, cookie or source IP)');
  return Object.freeze({ key: Object.freeze(key), ringSize: hash.minimumRingSize || DEFAULTS.ringSize });
}

/** The retry budget's share of active requests (0 = unset: the default). */
function budgetPercent(value: number | null | undefined, name: string): number {
  const share = value ?? 0;
  if (!(share >= 0 && share <= 100)) throw new InvalidResourceError(name, `retry budget percent ${share} is not between 0 and 100`);
  return share || DEFAULTS.budgetPercent;
}

export function decodeCluster(name: string, bytes: Uint8Array): ClusterConfig {
  const cluster = ResourceType.cluster.decode(bytes);
  if (cluster.name !== name) throw new InvalidResourceError(name, `resource is named "${cluster.name ?? ''}" inside`);
  if (!cluster.service) throw new InvalidResourceError(name, 'cluster has no service');
  const lbPolicy = enumName(LB_POLICIES, cluster.lbPolicy, 'load balancer policy', name);
  if (!isSupportedPolicy(lbPolicy)) throw new InvalidResourceError(name, `load balancer policy ${lbPolicy} is not supported by this proxy`);
  const consistentHash = decodeConsistentHash(cluster.consistentHash, name);
  if ((lbPolicy === 'RING_HASH') !== (consistentHash !== undefined)) throw new InvalidResourceError(name, 'RING_HASH and a consistent hash key go together');
  const budget = cluster.retryBudget;
  return Object.freeze({
    name,
    service: cluster.service,
    port: cluster.port ?? 0,
    subset: cluster.subset ?? '',
    protocol: enumName(PROTOCOLS, cluster.protocol, 'protocol', name),
    lbPolicy,
    peerIdentities: Object.freeze([...(cluster.peerIdentities ?? [])]),
    limits: decodeLimits(cluster.connectionPool, name),
    outlier: decodeOutlier(cluster.outlierDetection, name),
    consistentHash,
    retryBudget: Object.freeze({ budgetPercent: budgetPercent(budget?.budgetPercent, name), minRetryConcurrency: budget?.minRetryConcurrency || DEFAULTS.minRetryConcurrency }),
  });
}
