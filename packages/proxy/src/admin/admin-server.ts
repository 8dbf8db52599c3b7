// Admin endpoint (localhost only, like Envoy's): readiness, the configuration in force (secrets
// redacted), clusters with their endpoints, the stats, and the log level — the one thing it
// changes (POST /logging?level=debug).
import type { Server } from 'node:http';
import { resourceKindsInPushOrder } from '@weft/proto';
import { createJsonServer, prometheusEndpoint, type JsonEndpoints, type Logger } from '@weft/runtime';
import type { ProxyMetrics } from '../metrics/proxy-metrics.ts';
import type { ConfigStore } from '../config/config-store.ts';
import type { ClusterManager } from '../outbound/concrete/cluster-manager.ts';
import type { WorkloadIdentity } from '../identity/workload-identity.ts';
import type { AdsClient } from '../xds/ads-client.ts';
import { readinessEndpoint, type ReadinessSource } from './health-server.ts';
import { redactSecrets } from './redact.ts';

function configDump(store: ConfigStore): Record<string, unknown> {
  return Object.fromEntries(
    resourceKindsInPushOrder.map((kind) => {
      const state = store.state(kind);
      const resources = Object.fromEntries([...state.resources].map(([name, entry]) => [name, { version: entry.version, config: redactSecrets(entry.value) }]));
      return [kind, { version: state.version, resources }];
    }),
  );
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** GET: the level; POST ?level=L: sets it (pino children without a level of their own follow). */
function loggingEndpoint(log: Logger): JsonEndpoints[string] {
  return ({ method, query }) => {
    if (method === 'GET') return [200, { level: log.level }];
    if (method !== 'POST') return [405, { error: 'GET reads the level, POST /logging?level=LEVEL sets it' }];
    const level = query.get('level') ?? '';
    if (!LOG_LEVELS.includes(level)) return [400, { error: `level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"` }];
    log.level = level;
    return [200, { level }];
  };
}

export interface AdminOptions {
  readonly store: ConfigStore;
  readonly ads: AdsClient;
  readonly clusters: ClusterManager;
  readonly identity: { workload: string; namespace: string };
  readonly workloadIdentity: WorkloadIdentity | undefined;
  readonly metrics: ProxyMetrics;
  readonly log: Logger;
  readonly draining: ReadinessSource['draining'];
}

export function createAdminServer(options: AdminOptions): Server {
  const { store, ads, clusters, identity, workloadIdentity, metrics } = options;
  return createJsonServer({
    '/stats': prometheusEndpoint(metrics),
    '/logging': loggingEndpoint(options.log),
    '/ready': readinessEndpoint({ store, identity: workloadIdentity, draining: options.draining }),
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
