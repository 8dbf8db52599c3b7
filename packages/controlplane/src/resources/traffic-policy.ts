// A DestinationPolicy's trafficPolicy (Istio TrafficPolicy): how load is spread over a
// subset's endpoints, how many connections and requests it may have, when an endpoint is
// ejected for failing, and (a Weft extension) how many retries it may absorb.
import { quote, type Field } from '../registry/field.ts';
import { headerName } from './http-names.ts';

export const SIMPLE_LOAD_BALANCERS = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM'] as const;
export type SimpleLoadBalancer = (typeof SIMPLE_LOAD_BALANCERS)[number];

export type HashKey = { readonly kind: 'header'; readonly name: string } | { readonly kind: 'cookie'; readonly name: string } | { readonly kind: 'sourceIp' };

export type LoadBalancerSettings =
  | { readonly kind: 'simple'; readonly policy: SimpleLoadBalancer }
  | { readonly kind: 'consistentHash'; readonly key: HashKey; readonly minimumRingSize: number | undefined };

/** Undefined limits are not enforced (connectTimeout, idleTimeout: the proxy's defaults). */
export interface ConnectionPoolSettings {
  readonly maxConnections: number | undefined;
  readonly connectTimeoutMs: number | undefined;
  readonly http1MaxPendingRequests: number | undefined;
  readonly http2MaxRequests: number | undefined;
  /** Undefined (or Istio's 0): unlimited. */
  readonly maxRequestsPerConnection: number | undefined;
  readonly maxRetries: number | undefined;
  readonly idleTimeoutMs: number | undefined;
}

/** Complete: Istio's defaults are filled in, so the model says what is in force. */
export interface OutlierDetectionSettings {
  /** 0 disables this check. */
  readonly consecutive5xxErrors: number;
  /** 0 disables this check. */
  readonly consecutiveGatewayErrors: number;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
  readonly minHealthPercent: number;
}

export interface RetryBudgetSettings {
  readonly percent: number;
  readonly minRetryConcurrency: number;
}

/** Each section undefined when not set. */
export interface TrafficPolicy {
  readonly loadBalancer: LoadBalancerSettings | undefined;
  readonly connectionPool: ConnectionPoolSettings | undefined;
  readonly outlierDetection: OutlierDetectionSettings | undefined;
  readonly retryBudget: RetryBudgetSettings | undefined;
}

export const TRAFFIC_POLICY_SECTIONS = ['loadBalancer', 'connectionPool', 'outlierDetection', 'retryBudget'] as const;

/** Istio's outlier detection defaults. */
export const OUTLIER_DEFAULTS: OutlierDetectionSettings = Object.freeze({
  consecutive5xxErrors: 5,
  consecutiveGatewayErrors: 0,
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionPercent: 10,
  minHealthPercent: 0,
});

/** Envoy's retry budget defaults. */
export const RETRY_BUDGET_DEFAULTS: RetryBudgetSettings = Object.freeze({ percent: 20, minRetryConcurrency: 3 });

/** Istio's counters are int32; larger values could not reach the proxy intact anyway. */
const MAX_COUNT = 2_147_483_647;
/** Envoy's maximum ring size; each entry costs the proxy memory. */
const MAX_RING_SIZE = 8_388_608;
/** RFC 6265 cookie names are tokens. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export const NO_TRAFFIC_POLICY: TrafficPolicy = Object.freeze({ loadBalancer: undefined, connectionPool: undefined, outlierDetection: undefined, retryBudget: undefined });

function parseHashKey(field: Field): HashKey {
  const kind = field.oneOf(['httpHeaderName', 'httpCookie', 'useSourceIp'] as const);
  const value = field.get(kind);
  if (kind === 'httpHeaderName') return Object.freeze({ kind: 'header', name: headerName(value.string(), value) });
  if (kind === 'useSourceIp') {
    if (!value.boolean()) value.fail('only `true` is meaningful here');
    return Object.freeze({ kind: 'sourceIp' });
  }
  // With `ttl`, Envoy sets the cookie on clients that lack it; the Weft proxy never sets
  // cookies, so accepting it would promise stickiness that does not happen.
  if (value.get('ttl').present) value.get('ttl').fail('not supported: the proxy does not generate cookies; the client (or application) must set it');
  value.object(['name']);
  const name = value.get('name').string();
  if (!COOKIE_NAME.test(name)) value.get('name').fail(`${quote(name)} is not a cookie name`);
  return Object.freeze({ kind: 'cookie', name });
}

function parseLoadBalancer(field: Field): LoadBalancerSettings {
  field.object(['simple', 'consistentHash']);
  if (field.oneOf(['simple', 'consistentHash'] as const) === 'simple') {
    return Object.freeze({ kind: 'simple', policy: field.get('simple').choice(SIMPLE_LOAD_BALANCERS) });
  }
  const hash = field.get('consistentHash').object(['httpHeaderName', 'httpCookie', 'useSourceIp', 'minimumRingSize']);
  const ring = hash.get('minimumRingSize');
  return Object.freeze({ kind: 'consistentHash', key: parseHashKey(hash), minimumRingSize: ring.present ? ring.integer(1, MAX_RING_SIZE) : undefined });
}

function parseConnectionPool(field: Field): ConnectionPoolSettings {
  field.object(['tcp', 'http']);
  const tcp = field.get('tcp');
  const http = field.get('http');
  if (tcp.present) tcp.object(['maxConnections', 'connectTimeout']);
  if (http.present) http.object(['http1MaxPendingRequests', 'http2MaxRequests', 'maxRequestsPerConnection', 'maxRetries', 'idleTimeout']);
  // 0 is refused for limits: the proxy reads 0 as "no limit", where Envoy would allow nothing.
  const limit = (item: Field): number | undefined => (item.present ? item.integer(1, MAX_COUNT) : undefined);
  const duration = (item: Field): number | undefined => (item.present ? item.durationMs() : undefined);
  const perConnection = http.get('maxRequestsPerConnection');
  const perConnectionValue = perConnection.present ? perConnection.integer(0, MAX_COUNT) : 0;
  return Object.freeze({
    maxConnections: limit(tcp.get('maxConnections')),
    connectTimeoutMs: duration(tcp.get('connectTimeout')),
    http1MaxPendingRequests: limit(http.get('http1MaxPendingRequests')),
    http2MaxRequests: limit(http.get('http2MaxRequests')),
    // Istio documents 0 as "unlimited" here, which is also what the proxy reads it as.
    maxRequestsPerConnection: perConnectionValue === 0 ? undefined : perConnectionValue,
    maxRetries: limit(http.get('maxRetries')),
    idleTimeoutMs: duration(http.get('idleTimeout')),
  });
}

function parseOutlierDetection(field: Field): OutlierDetectionSettings {
  field.object(['consecutive5xxErrors', 'consecutiveGatewayErrors', 'interval', 'baseEjectionTime', 'maxEjectionPercent', 'minHealthPercent']);
  const count = (name: string, absent: number): number => (field.get(name).present ? field.get(name).integer(0, MAX_COUNT) : absent);
  const duration = (name: string, absent: number): number => (field.get(name).present ? field.get(name).durationMs() : absent);
  const percent = (name: string, min: number, absent: number): number => (field.get(name).present ? field.get(name).integer(min, 100) : absent);
  return Object.freeze({
    consecutive5xxErrors: count('consecutive5xxErrors', OUTLIER_DEFAULTS.consecutive5xxErrors),
    consecutiveGatewayErrors: count('consecutiveGatewayErrors', OUTLIER_DEFAULTS.consecutiveGatewayErrors),
    intervalMs: duration('interval', OUTLIER_DEFAULTS.intervalMs),
    baseEjectionTimeMs: duration('baseEjectionTime', OUTLIER_DEFAULTS.baseEjectionTimeMs),
    // At least 1: the proxy reads 0 as "the default (10%)", not "eject nothing".
    maxEjectionPercent: percent('maxEjectionPercent', 1, OUTLIER_DEFAULTS.maxEjectionPercent),
    minHealthPercent: percent('minHealthPercent', 0, OUTLIER_DEFAULTS.minHealthPercent),
  });
}

function parseRetryBudget(field: Field): RetryBudgetSettings {
  field.object(['percent', 'minRetryConcurrency']);
  const percent = field.get('percent');
  const floor = field.get('minRetryConcurrency');
  // Both above 0: the proxy reads 0 as "the default" (20%, 3).
  const value = percent.present ? percent.number(0, 100) : RETRY_BUDGET_DEFAULTS.percent;
  if (value === 0) percent.fail('must be greater than 0 (minRetryConcurrency alone cannot be expressed)');
  return Object.freeze({ percent: value, minRetryConcurrency: floor.present ? floor.integer(1, MAX_COUNT) : RETRY_BUDGET_DEFAULTS.minRetryConcurrency });
}

export function parseTrafficPolicy(field: Field): TrafficPolicy {
  if (!field.present) return NO_TRAFFIC_POLICY;
  field.object(TRAFFIC_POLICY_SECTIONS);
  const optional = <T>(name: string, parse: (section: Field) => T): T | undefined => (field.get(name).present ? parse(field.get(name)) : undefined);
  return Object.freeze({
    loadBalancer: optional('loadBalancer', parseLoadBalancer),
    connectionPool: optional('connectionPool', parseConnectionPool),
    outlierDetection: optional('outlierDetection', parseOutlierDetection),
    retryBudget: optional('retryBudget', parseRetryBudget),
  });
}

/** As Istio merges them: each section a subset sets replaces the service's section whole. */
export function mergeTrafficPolicy(service: TrafficPolicy, subset: TrafficPolicy | undefined): TrafficPolicy {
  if (!subset) return service;
  return Object.freeze({
    loadBalancer: subset.loadBalancer ?? service.loadBalancer,
    connectionPool: subset.connectionPool ?? service.connectionPool,
    outlierDetection: subset.outlierDetection ?? service.outlierDetection,
    retryBudget: subset.retryBudget ?? service.retryBudget,
  });
}
