// Health endpoint for the kubelet (every interface, port 15021 by default, as in Istio): the
// pod's readiness probe points here, so the pod joins its Services' endpoints only once the
// sidecar can carry traffic. Only readiness is served here; the admin port stays local.
import type { Server } from 'node:http';
import { createJsonServer, type JsonEndpoints } from '@weft/runtime';
import type { ConfigStore } from '../config/config-store.ts';
import type { WorkloadIdentity } from '../identity/workload-identity.ts';

/** What readiness depends on besides configuration and certificate. */
export interface ReadinessSource {
  readonly store: ConfigStore;
  readonly identity: WorkloadIdentity | undefined;
  /** True from the shutdown signal on: the pod must leave its Services' endpoints. */
  readonly draining: () => boolean;
}

/** Ready once the sidecar can carry traffic (a certificate with mTLS, complete configuration) and until it drains. */
export function readinessEndpoint({ store, identity, draining }: ReadinessSource): JsonEndpoints[string] {
  return () => {
    const reason = draining() ? 'draining' : identity && identity.spiffeId === undefined ? 'waiting for a certificate' : !store.complete ? 'waiting for configuration' : undefined;
    return reason === undefined ? [200, { ready: true }] : [503, { ready: false, reason }];
  };
}

export function createHealthServer(readiness: ReadinessSource): Server {
  return createJsonServer({ '/healthz/ready': readinessEndpoint(readiness) });
}
