#!/usr/bin/env node
// weft-controlplane: serves proxies their configuration (xDS) from a registry and, with a CA,
// their certificates.
import { loadOrCreateCa } from '@weft/ca';
import { createLogger, parseDuration, parseHostPort, parseProgramFlags, runMain, stopOnSignals } from '@weft/runtime';
import { BootstrapTokenAuthenticator } from './ca/bootstrap-tokens.ts';
import { ControlPlane, type IdentityOptions } from './control-plane.ts';
import { FileRegistry } from './registry/file-registry.ts';

const USAGE = `usage: weft-controlplane --registry file:PATH [options]

  --registry file:PATH        read the mesh from a multi-document YAML file (watched for changes)
  --xds-address HOST:PORT     plaintext xDS, development only ("off" disables); default 0.0.0.0:15010
  --debug-address HOST:PORT   readiness and debug endpoints; default 0.0.0.0:15014
  --ca-dir DIR                the CA (Istio cacerts layout); a root is created there when DIR is empty.
                              Enables the TLS port: certificate service and xDS for proxies with certificates
  --bootstrap-tokens FILE     tokens that prove workload identities to the certificate service (with --ca-dir)
  --secure-address HOST:PORT  TLS port; default 0.0.0.0:15012
  --trust-domain NAME         the CA's trust domain; default: the CA's own, or cluster.local for a new CA
  --cert-ttl DURATION         default certificate lifetime, e.g. 24h; default 24h
  --max-cert-ttl DURATION     longest lifetime a proxy may ask for; default 7d
  --log-level LEVEL           trace, debug, info, warn, error; default info (env WEFT_LOG_LEVEL)`;

const log = createLogger('controlplane');

runMain(log, async () => {
  const env = process.env;
  const values = parseProgramFlags(log, USAGE, {
    registry: { type: 'string' },
    'xds-address': { type: 'string', default: env.WEFT_XDS_ADDRESS ?? '0.0.0.0:15010' },
    'debug-address': { type: 'string', default: env.WEFT_DEBUG_ADDRESS ?? '0.0.0.0:15014' },
    'ca-dir': { type: 'string' },
    'bootstrap-tokens': { type: 'string' },
    'secure-address': { type: 'string', default: '0.0.0.0:15012' },
    'trust-domain': { type: 'string' },
    'cert-ttl': { type: 'string', default: '24h' },
    'max-cert-ttl': { type: 'string', default: '7d' },
  });
  if (!values) return;
  const registryFlag = values.registry ?? '';
  if (!registryFlag.startsWith('file:')) throw new Error(`--registry must be file:PATH (the Kubernetes registry is not built yet)\n${USAGE}`);
  if (values['bootstrap-tokens'] && !values['ca-dir']) throw new Error('--bootstrap-tokens needs --ca-dir');

  let identity: IdentityOptions | undefined;
  if (values['ca-dir']) {
    const ca = await loadOrCreateCa(values['ca-dir'], {
      trustDomain: values['trust-domain'],
      defaultTtlSeconds: parseDuration(values['cert-ttl'], '--cert-ttl'),
      maxTtlSeconds: parseDuration(values['max-cert-ttl'], '--max-cert-ttl'),
    });
    const authenticator = values['bootstrap-tokens'] ? await BootstrapTokenAuthenticator.fromFile(values['bootstrap-tokens'], log) : BootstrapTokenAuthenticator.of([]);
    identity = { ca, authenticator, secureAddress: parseHostPort(values['secure-address'], '--secure-address') };
  }
  const controlPlane = new ControlPlane({
    registry: new FileRegistry({ path: registryFlag.slice('file:'.length), log, settings: identity && { clusterDomain: 'cluster.local', trustDomain: identity.ca.trustDomain, rootNamespace: 'weft-system' } }),
    log,
    xdsAddress: values['xds-address'] === 'off' ? undefined : parseHostPort(values['xds-address'], '--xds-address'),
    debugAddress: parseHostPort(values['debug-address'], '--debug-address'),
    identity,
  });
  await controlPlane.start();
  stopOnSignals(log, () => controlPlane.stop());
});
