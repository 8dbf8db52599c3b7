// Endpoint pickers by load-balancing policy (a registry, as grpc-js has). Each picks among the
// ready endpoints of one cluster; `undefined` means none is ready.
import type { LbPolicy } from '../../config/resources/cluster.ts';
import type { EndpointConfig } from '../../config/resources/endpoints.ts';

/** One endpoint with its live state, kept across configuration updates. */
export interface EndpointState {
  config: EndpointConfig;
  /** Requests in flight to this endpoint. */
  active: number;
}

export type Picker = () => EndpointState | undefined;
export type PickerFactory = (endpoints: readonly EndpointState[], random: () => number) => Picker;

function roundRobin(endpoints: readonly EndpointState[], random: () => number): Picker {
  // Start at a random offset so proxies that start together do not hit the same endpoint first.
  let next = Math.floor(random() * endpoints.length);
  return () => {
    if (endpoints.length === 0) return undefined;
    next = (next + 1) % endpoints.length;
    return endpoints[next];
  };
}

function randomPick(endpoints: readonly EndpointState[], random: () => number): Picker {
  return () => endpoints[Math.floor(random() * endpoints.length)];
}

/** Power of two choices: the less loaded of two random endpoints (Envoy's LEAST_REQUEST). */
function leastRequest(endpoints: readonly EndpointState[], random: () => number): Picker {
  return () => {
    if (endpoints.length < 2) return endpoints[0];
    const a = endpoints[Math.floor(random() * endpoints.length)] as EndpointState;
    const b = endpoints[Math.floor(random() * endpoints.length)] as EndpointState;
    return b.active < a.active ? b : a;
  };
}

const PICKERS: Partial<Record<LbPolicy, PickerFactory>> = {
  ROUND_ROBIN: roundRobin,
  RANDOM: randomPick,
  LEAST_REQUEST: leastRequest,
};

export function isSupportedPolicy(policy: LbPolicy): boolean {
  return PICKERS[policy] !== undefined;
}

/** A picker over the ready endpoints. */
export function createPicker(policy: LbPolicy, endpoints: readonly EndpointState[], random: () => number = Math.random): Picker {
  const factory = PICKERS[policy];
  if (!factory) throw new Error(`load balancer policy ${policy} is not supported`);
  return factory(endpoints.filter((endpoint) => endpoint.config.ready), random);
}
