// The tables `weft proxy-config` prints, one per section. Each reads the JSON the proxy served
// and never adds anything the proxy did not say; certificates are shown by their public fields.
import type { ClusterConfig, IdentityStatus, RouteMatchDescription, StringMatchDescription } from '@weft/proxy';
import { renderTable } from '../status/table.ts';
import type { ClustersJson, ConfigDump } from './admin-json.ts';

function stringMatch(match: StringMatchDescription): string {
  if ('exact' in match) return `exact ${JSON.stringify(match.exact)}`;
  if ('prefix' in match) return `prefix ${JSON.stringify(match.prefix)}`;
  return `regex ${JSON.stringify(match.regex)}`;
}

/** "path prefix "/api", header x-canary present" ; "*" for a route that matches everything. */
export function describeMatch(match: RouteMatchDescription): string {
  const parts = [
    ...(match.path ? [`path ${stringMatch(match.path)}`] : []),
    ...(match.method ? [`method ${stringMatch(match.method)}`] : []),
    ...match.headers.map((header) => `header ${header.name} ${'value' in header ? stringMatch(header.value) : 'present' in header ? 'present' : 'absent'}`),
    ...match.queryParams.map((parameter) => `query ${parameter.name} ${'value' in parameter ? stringMatch(parameter.value) : 'present'}`),
  ];
  return parts.length === 0 ? '*' : parts.join(', ');
}

export function routesTable(dump: ConfigDump): string {
  const rows = Object.values(dump.configs.route.resources).flatMap(({ config: host }) =>
    host.routes.map((route) => [host.name, host.domains.join(','), describeMatch(route.match), route.clusters.map(({ cluster, weight }) => `${cluster} ${weight}%`).join(', ')]),
  );
  return renderTable(['VIRTUAL HOST', 'DOMAINS', 'MATCH', 'DESTINATIONS'], rows);
}

function circuitBreaker(limits: ClusterConfig['limits']): string {
  const set = (
    [
      ['maxConnections', limits.maxConnections],
      ['maxPending', limits.maxPendingRequests],
      ['maxRequests', limits.maxRequests],
      ['maxRetries', limits.maxRetries],
    ] as const
  ).filter(([, value]) => value !== undefined);
  return set.length === 0 ? '-' : set.map(([name, value]) => `${name}=${value}`).join(' ');
}

export function clustersTable(dump: ConfigDump): string {
  const rows = Object.values(dump.configs.cluster.resources).map(({ config: cluster }) => {
    const outlier = cluster.outlier;
    return [
      cluster.name,
      cluster.lbPolicy,
      circuitBreaker(cluster.limits),
      outlier
        ? `5xx=${outlier.consecutive5xx} gateway=${outlier.consecutiveGatewayErrors} interval=${outlier.intervalMs}ms ejection=${outlier.baseEjectionMs}ms maxEjection=${outlier.maxEjectionPercent}%`
        : '-',
    ];
  });
  return renderTable(['NAME', 'LB POLICY', 'CIRCUIT BREAKER', 'OUTLIER DETECTION'], rows);
}

export function endpointsTable(clusters: ClustersJson): string {
  const rows = clusters.clusters.flatMap((cluster) =>
    cluster.endpoints.map((endpoint) => [
      cluster.name,
      endpoint.address,
      endpoint.workload || '-',
      endpoint.ready ? 'READY' : 'NOT READY',
      endpoint.ejectedUntil ? `EJECTED until ${endpoint.ejectedUntil}` : 'HEALTHY',
      String(endpoint.activeRequests),
    ]),
  );
  return renderTable(['CLUSTER', 'ADDRESS', 'WORKLOAD', 'READY', 'HEALTH', 'ACTIVE REQUESTS'], rows);
}

export function secretsTable(certificate: IdentityStatus | null): string {
  if (!certificate) return 'this proxy has no certificate: it runs without mTLS (no --token-file)';
  const { spiffeId, notAfter, notBefore, serialNumber, issuer } = certificate;
  const rows = [
    ...(spiffeId ? [['default', 'Cert Chain', certificate.subject || '-', spiffeId, serialNumber ?? '-', notBefore ?? '-', notAfter ?? '-', issuer ?? '-']] : []),
    ...certificate.roots.map((root) => ['ROOTCA', 'CA', root.subject || '-', '-', root.serialNumber, root.notBefore, root.notAfter, root.issuer]),
  ];
  const table = renderTable(['NAME', 'TYPE', 'SUBJECT', 'SPIFFE ID', 'SERIAL', 'NOT BEFORE', 'NOT AFTER', 'ISSUER'], rows);
  const status = `certificates issued: ${certificate.issued}; failed requests: ${certificate.failures}${certificate.lastError ? `; last error: ${certificate.lastError}` : ''}`;
  return `${table}\n\n${status}`;
}
