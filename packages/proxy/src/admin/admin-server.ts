// Admin endpoint (localhost only): readiness, the configuration in force, clusters with their
// endpoints. Read-only in this build.
import type { Server } from 'node:http';
import { resourceKindsInPushOrder } from '@weft/proto';
import { createJsonServer } from '@weft/runtime';
import type { ConfigStore } from '../config/config-store.ts';
import type { ClusterManager } from '../outbound/concrete/cluster-manager.ts';
import type { WorkloadIdentity } from '../identity/workload-identity.ts';
import type { AdsClient } from '../xds/ads-client.ts';
import { readinessEndpoint } from './health-server.ts';

function configDump(store: ConfigStore): Record<string, unknown> {
  return Object.fromEntries(
    resourceKindsInPushOrder.map((kind) => {
      const state = store.state(kind);
      const resources = Object.fromEntries([...state.resources].map(([name, entry]) => [name, { version: entry.version, config: entry.value }]));
      return [kind, { version: state.version, resources }];
    }),
  );
}

export function createAdminServer(options: { store: ConfigStore; ads: AdsClient; clusters: ClusterManager; identity: { workload: string; namespace: string }; workloadIdentity: WorkloadIdentity | undefined }): Server {
  const { store, ads, clusters, identity, workloadIdentity } = options;
  return createJsonServer({
    '/ready': readinessEndpoint(store, workloadIdentity),
    // Certificates are public; keys never leave WorkloadIdentity.
    '/config_dump': () => [200, { node: identity, xds: ads.status(), certificate: workloadIdentity?.status() ?? null, configs: configDump(store) }],
    '/clusters': () => [
      200,
      {
        clusters: clusters.clusters().map((cluster) => ({
          name: cluster.config.name,
          load: cluster.breaker.load,
          overflows: cluster.breaker.overflows,
          retries: { started: cluster.retriesStarted, refusedByBudget: cluster.retriesRefused },
          ejectionsTotal: cluster.outlier?.ejectionsTotal ?? 0,
          endpoints: cluster.endpoints.map(({ config, active, health }) => ({
            address: `${config.address}:${config.port}`,
            workload: config.workload,
            ready: config.ready,
            activeRequests: active,
            ejectedUntil: health.ejectedUntil === undefined || health.ejectedUntil <= Date.now() ? null : new Date(health.ejectedUntil).toISOString(),
            ejections: health.ejections,
          })),
        })),
      },
    ],
  });
}
