// Endpoint pickers by load-balancing policy (a registry, as grpc-js has). A picker is built
// per cluster over its endpoints and, per request, chooses among the candidates still usable
// (ready, not ejected), preferring ones a retry has not tried yet.
import type { ConsistentHashSettings, LbPolicy } from '../../config/resources/cluster.ts';
import type { EndpointConfig } from '../../config/resources/endpoints.ts';
import { HashRing, pointsPerEndpoint } from './hash-ring.ts';

export interface EndpointHealth {
  consecutive5xx: number;
  consecutiveGateway: number;
  /** Set while ejected by outlier detection (epoch ms). */
  ejectedUntil: number | undefined;
  /** Times ejected, forgiven one per clean interval: the ejection time multiplier. */
  ejections: number;
  failedSinceReview: boolean;
  /** Since when it has been in rotation without failures (epoch ms). */
  cleanSince: number;
}

/** One endpoint with its live state, kept across configuration updates. */
export interface EndpointState {
  config: EndpointConfig;
  /** Requests in flight to this endpoint. */
  active: number;
  readonly health: EndpointHealth;
}

export function newEndpointState(config: EndpointConfig): EndpointState {
  return { config, active: 0, health: { consecutive5xx: 0, consecutiveGateway: 0, ejectedUntil: undefined, ejections: 0, failedSinceReview: false, cleanSince: 0 } };
}

export interface PickHint {
  /** Consistent-hash key of the request, when the cluster hashes. */
  readonly hashKey: string | undefined;
  /** Endpoints earlier attempts of this request used: avoided while others remain. */
  readonly tried: ReadonlySet<EndpointState> | undefined;
}

export type Picker = (candidates: readonly EndpointState[], hint: PickHint) => EndpointState | undefined;
type PickerFactory = (endpoints: readonly EndpointState[], random: () => number, hash: ConsistentHashSettings | undefined) => Picker;

function roundRobin(endpoints: readonly EndpointState[], random: () => number): Picker {
  // Start at a random offset so proxies that start together do not hit the same endpoint first.
  let next = Math.floor(random() * Math.max(1, endpoints.length));
  return (candidates) => {
    if (candidates.length === 0) return undefined;
    next = (next + 1) % candidates.length;
    return candidates[next];
  };
}

function randomPick(_endpoints: readonly EndpointState[], random: () => number): Picker {
  return (candidates) => candidates[Math.floor(random() * candidates.length)];
}

/** Power of two choices: the less loaded of two random endpoints (Envoy's LEAST_REQUEST). */
function leastRequest(_endpoints: readonly EndpointState[], random: () => number): Picker {
  return (candidates) => {
    if (candidates.length < 2) return candidates[0];
    const a = candidates[Math.floor(random() * candidates.length)] as EndpointState;
    const b = candidates[Math.floor(random() * candidates.length)] as EndpointState;
    return b.active < a.active ? b : a;
  };
}

/** Consistent hashing on a ring; requests without a key are spread at random. */
function ringHash(endpoints: readonly EndpointState[], random: () => number, hash: ConsistentHashSettings | undefined): Picker {
  const ring = new HashRing(endpoints, (endpoint) => `${endpoint.config.address}:${endpoint.config.port}`, pointsPerEndpoint(hash?.ringSize ?? 1024));
  const fallback = randomPick(endpoints, random);
  return (candidates, hint) => {
    if (hint.hashKey === undefined) return fallback(candidates, hint);
    const usable = new Set(candidates);
    return ring.lookup(hint.hashKey, (endpoint) => usable.has(endpoint));
  };
}

const PICKERS: Record<LbPolicy, PickerFactory> = {
  ROUND_ROBIN: roundRobin,
  RANDOM: randomPick,
  LEAST_REQUEST: leastRequest,
  RING_HASH: ringHash,
};

export function isSupportedPolicy(policy: LbPolicy): boolean {
  return PICKERS[policy] !== undefined;
}

/**
 * A picker for a cluster's endpoints. The returned function takes the usable candidates (the
 * caller filters readiness and ejection) and prefers endpoints not yet tried by this request.
 */
export function createPicker(policy: LbPolicy, endpoints: readonly EndpointState[], options: { random?: () => number; hash?: ConsistentHashSettings } = {}): Picker {
  const pick = PICKERS[policy](endpoints, options.random ?? Math.random, options.hash);
  return (candidates, hint) => {
    const tried = hint.tried;
    if (tried && tried.size > 0) {
      const fresh = candidates.filter((endpoint) => !tried.has(endpoint));
      if (fresh.length > 0) return pick(fresh, hint);
    }
    return pick(candidates, hint);
  };
}
