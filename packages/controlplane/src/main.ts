#!/usr/bin/env node
// weft-controlplane: serves proxies their configuration (xDS) from a registry and, with a CA,
// their certificates. In a cluster (--registry kubernetes) also CR status, the root-cert
// ConfigMaps and the sidecar injection webhook.
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { loadOrCreateCa, type CaSettings } from '@weft/ca';
import { createLogger, parseDuration, parseHostPort, parseProgramFlags, runMain, stopOnSignals } from '@weft/runtime';
import { BootstrapTokenAuthenticator } from './ca/bootstrap-tokens.ts';
import { ControlPlane, type IdentityOptions } from './control-plane.ts';
import { resolveInjectionSettings } from './injection/injection-settings.ts';
import { KubernetesIntegration } from './kubernetes/kubernetes-integration.ts';
import { ControlPlaneMetrics } from './metrics/controlplane-metrics.ts';
import type { ModelSettings } from './model/build-mesh-model.ts';
import { FileRegistry } from './registry/file-registry.ts';
import type { MeshRegistry } from './registry/mesh-registry.ts';

const USAGE = `usage: weft-controlplane --registry file:PATH|kubernetes [options]

  --registry file:PATH        read the mesh from a multi-document YAML file (watched for changes)
  --registry kubernetes       watch the cluster (in-cluster credentials, or KUBECONFIG): Services,
                              EndpointSlices, Pods, Namespaces and Weft's custom resources
  --xds-address HOST:PORT     plaintext xDS, development only ("off" disables); default 0.0.0.0:15010
  --debug-address HOST:PORT   readiness and debug endpoints; default 0.0.0.0:15014
  --secure-address HOST:PORT  TLS port (certificate service, xDS with certificates); default 0.0.0.0:15012
  --trust-domain NAME         the CA's trust domain; default: the CA's own, or cluster.local for a new CA
  --cert-ttl DURATION         default certificate lifetime, e.g. 24h; default 24h
  --max-cert-ttl DURATION     longest lifetime a proxy may ask for; default 7d
  --log-level LEVEL           trace, debug, info, warn, error; default info (env WEFT_LOG_LEVEL)

 with --registry file:
  --ca-dir DIR                the CA (Istio cacerts layout); a root is created there when DIR is empty.
                              Enables the TLS port
  --bootstrap-tokens FILE     tokens that prove workload identities to the certificate service

 with --registry kubernetes (certificates are asked for with projected tokens, checked by TokenReview):
  --ca-secret NAME            Secret (cacerts layout) in --namespace holding the CA; created with a new
                              root when missing. Enables the TLS port
  --namespace NS              where this replica runs (env POD_NAMESPACE); default weft-system
  --pod-name NAME             this replica in leader election (env POD_NAME); default the host name
  --webhook-address HOST:PORT sidecar injection webhook (HTTPS, needs --ca-secret); off when unset
  --webhook-config NAME       MutatingWebhookConfiguration to patch the CA bundle into
  --webhook-service NAME      the Service the API server calls the webhook by; default weft-controlplane
  --proxy-image IMAGE, --init-image IMAGE, --controlplane-address HOST:PORT, --proxy-log-level LEVEL
                              what injection puts into pods (as for weft inject)`;

const log = createLogger('controlplane');

function modelSettings(trustDomain: string | undefined, rootNamespace = 'weft-system'): ModelSettings | undefined {
  return trustDomain === undefined ? undefined : { clusterDomain: 'cluster.local', trustDomain, rootNamespace };
}

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
    'ca-secret': { type: 'string' },
    namespace: { type: 'string', default: env.POD_NAMESPACE ?? 'weft-system' },
    'pod-name': { type: 'string', default: env.POD_NAME ?? hostname() },
    'webhook-address': { type: 'string' },
    'webhook-config': { type: 'string' },
    'webhook-service': { type: 'string', default: 'weft-controlplane' },
    'proxy-image': { type: 'string' },
    'init-image': { type: 'string' },
    'controlplane-address': { type: 'string' },
    'proxy-log-level': { type: 'string' },
  });
  if (!values) return;
  const registryFlag = values.registry ?? '';
  const caSettings: CaSettings = {
    trustDomain: values['trust-domain'],
    defaultTtlSeconds: parseDuration(values['cert-ttl'], '--cert-ttl'),
    maxTtlSeconds: parseDuration(values['max-cert-ttl'], '--max-cert-ttl'),
  };
  const secureAddress = parseHostPort(values['secure-address'], '--secure-address');
  const metrics = new ControlPlaneMetrics();

  let registry: MeshRegistry;
  let identity: IdentityOptions | undefined;
  let kubernetes: KubernetesIntegration | undefined;
  if (registryFlag === 'kubernetes') {
    for (const flag of ['ca-dir', 'bootstrap-tokens'] as const) if (values[flag]) throw new Error(`--${flag} is for the file registry; in a cluster the CA lives in a Secret (--ca-secret)`);
    if (values['webhook-address'] && !values['ca-secret']) throw new Error('--webhook-address needs --ca-secret (the webhook serves a certificate from the CA)');
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromDefault();
    const { namespace } = values;
    const service = values['webhook-service'];
    kubernetes = await KubernetesIntegration.create({
      kubeConfig,
      log,
      namespace,
      podName: values['pod-name'],
      caSecret: values['ca-secret'],
      caSettings,
      metrics: metrics.forRegistry('kubernetes'),
      modelSettings: (ca) => modelSettings(ca?.trustDomain ?? values['trust-domain'], namespace),
      webhook: values['webhook-address']
        ? {
            address: parseHostPort(values['webhook-address'], '--webhook-address'),
            configurationName: values['webhook-config'],
            dnsNames: [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`],
            settings: resolveInjectionSettings({
              proxyImage: values['proxy-image'],
              initImage: values['init-image'],
              controlPlaneAddress: values['controlplane-address'],
              logLevel: values['proxy-log-level'],
            }),
          }
        : undefined,
    });
    registry = kubernetes.registry;
    if (kubernetes.ca) identity = { ca: kubernetes.ca, authenticator: kubernetes.authenticator, secureAddress };
  } else if (registryFlag.startsWith('file:')) {
    for (const flag of ['ca-secret', 'webhook-address', 'webhook-config'] as const) if (values[flag]) throw new Error(`--${flag} needs --registry kubernetes`);
    if (values['bootstrap-tokens'] && !values['ca-dir']) throw new Error('--bootstrap-tokens needs --ca-dir');
    if (values['ca-dir']) {
      const ca = await loadOrCreateCa(values['ca-dir'], caSettings);
      const authenticator = values['bootstrap-tokens'] ? await BootstrapTokenAuthenticator.fromFile(values['bootstrap-tokens'], log) : BootstrapTokenAuthenticator.of([]);
      identity = { ca, authenticator, secureAddress };
    }
    registry = new FileRegistry({ path: registryFlag.slice('file:'.length), log, settings: modelSettings(identity?.ca.trustDomain), metrics: metrics.forRegistry('file') });
  } else {
    throw new Error(`--registry must be file:PATH or kubernetes\n${USAGE}`);
  }

  const controlPlane = new ControlPlane({
    registry,
    log,
    xdsAddress: values['xds-address'] === 'off' ? undefined : parseHostPort(values['xds-address'], '--xds-address'),
    debugAddress: parseHostPort(values['debug-address'], '--debug-address'),
    identity,
    metrics,
  });
  await controlPlane.start();
  await kubernetes?.start();
  stopOnSignals(log, async () => {
    await kubernetes?.stop();
    await controlPlane.stop();
  });
});
