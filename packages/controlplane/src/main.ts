#!/usr/bin/env node
// weft-controlplane: serves proxies their configuration (xDS) from a registry.
import { createLogger, parseHostPort, parseProgramFlags, runMain, stopOnSignals } from '@weft/runtime';
import { ControlPlane } from './control-plane.ts';
import { FileRegistry } from './registry/file-registry.ts';

const USAGE = `usage: weft-controlplane --registry file:PATH [options]

  --registry file:PATH     read the mesh from a multi-document YAML file (watched for changes)
  --xds-address HOST:PORT  xDS (plaintext, development only); default 0.0.0.0:15010
  --debug-address HOST:PORT readiness and debug endpoints; default 0.0.0.0:15014
  --log-level LEVEL        trace, debug, info, warn, error; default info (env WEFT_LOG_LEVEL)`;

const log = createLogger('controlplane');

runMain(log, async () => {
  const values = parseProgramFlags(log, USAGE, {
    registry: { type: 'string' },
    'xds-address': { type: 'string', default: process.env.WEFT_XDS_ADDRESS ?? '0.0.0.0:15010' },
    'debug-address': { type: 'string', default: process.env.WEFT_DEBUG_ADDRESS ?? '0.0.0.0:15014' },
  });
  if (!values) return;
  const registryFlag = values.registry ?? '';
  if (!registryFlag.startsWith('file:')) throw new Error(`--registry must be file:PATH (the Kubernetes registry is not built yet)\n${USAGE}`);
  const controlPlane = new ControlPlane({
    registry: new FileRegistry({ path: registryFlag.slice('file:'.length), log }),
    log,
    xdsAddress: parseHostPort(values['xds-address'], '--xds-address'),
    debugAddress: parseHostPort(values['debug-address'], '--debug-address'),
  });
  await controlPlane.start();
  stopOnSignals(log, () => controlPlane.stop());
});
