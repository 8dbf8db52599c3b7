// weft proxy-config PROXY routes|clusters|endpoints|secrets: the configuration one proxy holds,
// read from the proxy's own admin endpoint — what it serves, not what the control plane meant
// to send. Tables by default; -o json prints the proxy's section exactly as served.
import { parseArgs } from 'node:util';
import { UsageError, type Output } from '../ca/subcommand.ts';
import { ControlPlaneDebug, CONTROLPLANE_FLAG_HELP } from '../status/controlplane-debug.ts';
import { ProxyAdmin } from './proxy-admin.ts';
import { clustersTable, endpointsTable, routesTable, secretsTable } from './views.ts';

const USAGE = `usage: weft proxy-config PROXY routes|clusters|endpoints|secrets [-o table|json] [--admin URL] [--controlplane URL]

  PROXY               workload.namespace as weft proxy-status shows it (or a workload name only one proxy has)
  routes              virtual hosts: domains, each route's match and its destinations with weights
  clusters            load-balancer policy, circuit breaker limits, outlier detection
  endpoints           per cluster: address, workload, ready, health (ejected or not), active requests
  secrets             the proxy's certificate (subject, SPIFFE ID, validity, serial, issuer) and the
                      roots it trusts; never a key
  -o, --output F      table (default) or json: the proxy's own /config_dump section (/clusters for endpoints)
  --admin URL         the proxy's admin endpoint (default: the address the proxy reported to the
                      control plane); in a cluster: kubectl port-forward pod/POD 15000
  ${CONTROLPLANE_FLAG_HELP}`;

type SectionReader = (admin: ProxyAdmin) => Promise<{ json: unknown; table: string }>;

const SECTIONS: Record<string, SectionReader> = {
  routes: async (admin) => {
    const dump = await admin.configDump();
    return { json: dump.configs.route, table: routesTable(dump) };
  },
  clusters: async (admin) => {
    const dump = await admin.configDump();
    return { json: dump.configs.cluster, table: clustersTable(dump) };
  },
  endpoints: async (admin) => {
    const clusters = await admin.clusters();
    return { json: clusters, table: endpointsTable(clusters) };
  },
  secrets: async (admin) => {
    const { certificate } = await admin.configDump();
    return { json: certificate, table: secretsTable(certificate) };
  },
};

export const proxyConfigCommand = {
  summary: "one proxy's routes, clusters, endpoints or certificates, as it serves them",
  usage: USAGE,
  async run(args: string[], stdout: Output = process.stdout): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { output: { type: 'string', short: 'o', default: 'table' }, admin: { type: 'string' }, controlplane: { type: 'string' } },
    });
    const [name, section, ...extra] = positionals;
    if (name === undefined || section === undefined || extra.length > 0) throw new UsageError('give a proxy and one of routes, clusters, endpoints, secrets');
    const read = Object.hasOwn(SECTIONS, section) ? SECTIONS[section] : undefined;
    if (!read) throw new UsageError(`"${section}" is not one of routes, clusters, endpoints, secrets`);
    if (values.output !== 'table' && values.output !== 'json') throw new UsageError(`-o must be table or json, got "${values.output}"`);
    const admin = values.admin !== undefined ? ProxyAdmin.at(values.admin, name) : await ProxyAdmin.locate(name, ControlPlaneDebug.fromFlag(values.controlplane));
    const { json, table } = await read(admin);
    stdout.write(`${values.output === 'json' ? JSON.stringify(json, null, 2) : table}\n`);
    return 0;
  },
};
