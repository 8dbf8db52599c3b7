#!/usr/bin/env node
// weft-proxy: the sidecar. Gets its configuration from the control plane and carries the
// workload's traffic.
import { createLogger, parseHostPort, parseProgramFlags, runMain, stopOnSignals } from '@weft/runtime';
import { Proxy } from './proxy.ts';

const USAGE = `usage: weft-proxy --xds-address HOST:PORT --workload NAME [options]

  --xds-address HOST:PORT      control plane xDS address (env WEFT_XDS_ADDRESS)
  --workload NAME              this workload's name (env WEFT_WORKLOAD)
  --namespace NS               this workload's namespace (env WEFT_NAMESPACE); default default
  --outbound-address HOST:PORT outbound listener; default 127.0.0.1:15001
  --inbound-address HOST:PORT  inbound listener; default 0.0.0.0:15006
  --admin-address HOST:PORT    admin endpoint; default 127.0.0.1:15000
  --stats-address HOST:PORT    Prometheus endpoint; default 0.0.0.0:15090
  --app-host HOST              where the application listens; default 127.0.0.1
  --log-level LEVEL            default info (env WEFT_LOG_LEVEL)`;

const log = createLogger('proxy');

runMain(log, async () => {
  const env = process.env;
  const values = parseProgramFlags(log, USAGE, {
    'xds-address': { type: 'string', default: env.WEFT_XDS_ADDRESS ?? '' },
    workload: { type: 'string', default: env.WEFT_WORKLOAD ?? '' },
    namespace: { type: 'string', default: env.WEFT_NAMESPACE ?? 'default' },
    'outbound-address': { type: 'string', default: '127.0.0.1:15001' },
    'inbound-address': { type: 'string', default: '0.0.0.0:15006' },
    'admin-address': { type: 'string', default: '127.0.0.1:15000' },
    'stats-address': { type: 'string', default: '0.0.0.0:15090' },
    'app-host': { type: 'string', default: '127.0.0.1' },
  });
  if (!values) return;
  if (!values['xds-address'] || !values.workload) throw new Error(`--xds-address and --workload are required\n${USAGE}`);
  const proxy = new Proxy({
    workload: values.workload,
    namespace: values.namespace,
    xdsAddress: parseHostPort(values['xds-address'], '--xds-address'),
    outboundAddress: parseHostPort(values['outbound-address'], '--outbound-address'),
    inboundAddress: parseHostPort(values['inbound-address'], '--inbound-address'),
    adminAddress: parseHostPort(values['admin-address'], '--admin-address'),
    statsAddress: parseHostPort(values['stats-address'], '--stats-address'),
    appHost: values['app-host'],
    log,
  });
  await proxy.start();
  stopOnSignals(log, () => proxy.stop());
});
