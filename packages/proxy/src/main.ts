#!/usr/bin/env -S node --max-semi-space-size=2
// weft-proxy: the sidecar. Gets its configuration from the control plane and carries the
// workload's traffic.
import { readFile } from 'node:fs/promises';
import { createLogger, parseDuration, parseHostPort, parsePositiveInteger, parseProgramFlags, runMain, stopOnSignals } from '@weft/runtime';
import { DEFAULT_HTTP_LIMITS } from './http/request-limits.ts';
import { parseAccessLogMode } from './observability/access-log.ts';
import { OUTBOUND_TRAFFIC_POLICIES } from './outbound/outbound-listener.ts';
import { DISCOVERY_MODES, Proxy, type ProxyOptions } from './proxy.ts';
import { DEFAULT_BATCH_SETTINGS } from './tracing/otlp-exporter.ts';
import { DEFAULT_SAMPLING_PERCENT, parseTracingFlags } from './tracing/tracing-options.ts';

/** A pod's default grace period (30 s) less the margin injection leaves (5 s). */
const DEFAULT_DRAIN_DEADLINE = '25s';

const USAGE = `usage: weft-proxy --xds-address HOST:PORT --workload NAME [options]

  --xds-address HOST:PORT      control plane xDS address (env WEFT_XDS_ADDRESS)
  --workload NAME              this workload's name (env WEFT_WORKLOAD)
  --namespace NS               this workload's namespace (env WEFT_NAMESPACE); default default
  --outbound-address HOST:PORT outbound listener; default 127.0.0.1:15001
  --inbound-address HOST:PORT  inbound listener; default 0.0.0.0:15006
  --admin-address HOST:PORT    admin endpoint; default 127.0.0.1:15000
  --stats-address HOST:PORT    Prometheus endpoint; default 0.0.0.0:15090
  --health-address HOST:PORT   readiness for the kubelet (GET /healthz/ready); default 0.0.0.0:15021
  --app-host HOST              where the application listens; default 127.0.0.1
  --outbound-traffic-policy P  captured connections to destinations outside the mesh: ALLOW_ANY
                               (passed through; default) or REGISTRY_ONLY (HTTP 502, TCP reset)
                               (env WEFT_OUTBOUND_TRAFFIC_POLICY)
  --discovery MODE             which services' configuration the proxy holds: on-demand (the ones
                               its workload calls, asked for at the first request; default) or
                               all (every service in the mesh) (env WEFT_DISCOVERY)
  --token-file FILE            token proving this workload's identity to the certificate service
                               (env WEFT_TOKEN_FILE); enables mTLS, and xDS over TLS on --xds-address
  --ca-address HOST:PORT       certificate service; default: the --xds-address
  --ca-root-cert FILE          root(s) to verify the control plane with until it sends its trust bundle
  --cert-ttl DURATION          certificate lifetime to ask for; default 24h
  --controlplane-identity NS/SA  who the control plane must be; default weft-system/weft-controlplane
  --tracing-otlp-endpoint URL  where spans go, OTLP/HTTP with JSON bodies, e.g.
                               http://collector:4318/v1/traces (env WEFT_TRACING_OTLP_ENDPOINT);
                               without it no span is recorded (trace headers still propagate)
  --tracing-sampling PERCENT   share of new traces sampled, 0-100; a caller's decision is always
                               kept (env WEFT_TRACING_SAMPLING); default ${DEFAULT_SAMPLING_PERCENT}
  --tracing-max-queue N        spans waiting for export; more are dropped; default ${DEFAULT_BATCH_SETTINGS.maxQueueSize}
  --tracing-max-batch N        spans per export request; default ${DEFAULT_BATCH_SETTINGS.maxBatchSize}
  --tracing-flush-interval-ms N  export what is queued this often; default ${DEFAULT_BATCH_SETTINGS.flushIntervalMs}
  --tracing-export-timeout-ms N  an export not answered within this failed; default ${DEFAULT_BATCH_SETTINGS.exportTimeoutMs}
  --drain-deadline DURATION    on SIGTERM the sidecar drains (readiness fails, inbound stops accepting
                               and finishes what is in flight, outbound keeps working) and exits
                               once inbound is idle and the application has stopped calling out, or
                               after this long at most; injection sets it from the pod's grace
                               period (env WEFT_DRAIN_DEADLINE); default ${DEFAULT_DRAIN_DEADLINE}
  --request-headers-timeout DURATION  a request's headers must arrive within this, else 408 and the
                               connection closes (slowloris); default ${DEFAULT_HTTP_LIMITS.requestHeadersTimeoutMs / 1000}s
  --http2-max-concurrent-streams N  streams one HTTP/2 connection may have open; more are refused;
                               default ${DEFAULT_HTTP_LIMITS.http2MaxConcurrentStreams}
  --access-log MODE            one JSON line per request on stdout: off, all or sampled:PERCENT
                               (env WEFT_ACCESS_LOG); default off
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
    'health-address': { type: 'string', default: '0.0.0.0:15021' },
    'app-host': { type: 'string', default: '127.0.0.1' },
    'outbound-traffic-policy': { type: 'string', default: env.WEFT_OUTBOUND_TRAFFIC_POLICY ?? 'ALLOW_ANY' },
    'token-file': { type: 'string', default: env.WEFT_TOKEN_FILE ?? '' },
    'ca-address': { type: 'string', default: '' },
    'ca-root-cert': { type: 'string', default: env.WEFT_CA_ROOT_CERT ?? '' },
    'cert-ttl': { type: 'string', default: '24h' },
    'controlplane-identity': { type: 'string', default: 'weft-system/weft-controlplane' },
    'tracing-otlp-endpoint': { type: 'string', default: env.WEFT_TRACING_OTLP_ENDPOINT ?? '' },
    'tracing-sampling': { type: 'string', default: env.WEFT_TRACING_SAMPLING ?? String(DEFAULT_SAMPLING_PERCENT) },
    'tracing-max-queue': { type: 'string', default: String(DEFAULT_BATCH_SETTINGS.maxQueueSize) },
    'tracing-max-batch': { type: 'string', default: String(DEFAULT_BATCH_SETTINGS.maxBatchSize) },
    'tracing-flush-interval-ms': { type: 'string', default: String(DEFAULT_BATCH_SETTINGS.flushIntervalMs) },
    'tracing-export-timeout-ms': { type: 'string', default: String(DEFAULT_BATCH_SETTINGS.exportTimeoutMs) },
    'access-log': { type: 'string', default: env.WEFT_ACCESS_LOG ?? 'off' },
    discovery: { type: 'string', default: env.WEFT_DISCOVERY ?? 'on-demand' },
    'drain-deadline': { type: 'string', default: env.WEFT_DRAIN_DEADLINE ?? DEFAULT_DRAIN_DEADLINE },
    'request-headers-timeout': { type: 'string', default: `${DEFAULT_HTTP_LIMITS.requestHeadersTimeoutMs / 1000}s` },
    'http2-max-concurrent-streams': { type: 'string', default: String(DEFAULT_HTTP_LIMITS.http2MaxConcurrentStreams) },
  });
  if (!values) return;
  if (!values['xds-address'] || !values.workload) throw new Error(`--xds-address and --workload are required\n${USAGE}`);
  const xdsAddress = parseHostPort(values['xds-address'], '--xds-address');
  const policy = OUTBOUND_TRAFFIC_POLICIES.find((candidate) => candidate === values['outbound-traffic-policy'].toUpperCase());
  if (!policy) throw new Error(`--outbound-traffic-policy must be one of ${OUTBOUND_TRAFFIC_POLICIES.join(', ')}, got "${values['outbound-traffic-policy']}"`);
  const tracing = parseTracingFlags(values);
  const accessLog = parseAccessLogMode(values['access-log'], '--access-log');
  const discovery = DISCOVERY_MODES.find((mode) => mode === values.discovery);
  if (!discovery) throw new Error(`--discovery must be one of ${DISCOVERY_MODES.join(', ')}, got "${values.discovery}"`);
  const drainDeadlineMs = parseDuration(values['drain-deadline'], '--drain-deadline') * 1000;
  const httpLimits = {
    requestHeadersTimeoutMs: parseDuration(values['request-headers-timeout'], '--request-headers-timeout') * 1000,
    http2MaxConcurrentStreams: parsePositiveInteger(values['http2-max-concurrent-streams'], '--http2-max-concurrent-streams'),
  };
  let identity: ProxyOptions['identity'];
  if (values['token-file']) {
    if (!values['ca-root-cert']) throw new Error('--token-file needs --ca-root-cert (the root that signed the control plane certificate)');
    const [namespace, serviceAccount] = values['controlplane-identity'].split('/');
    if (!namespace || !serviceAccount) throw new Error(`--controlplane-identity must be NAMESPACE/SERVICE-ACCOUNT, got "${values['controlplane-identity']}"`);
    identity = {
      caAddress: values['ca-address'] ? parseHostPort(values['ca-address'], '--ca-address') : xdsAddress,
      tokenFile: values['token-file'],
      bootstrapRootsPem: await readFile(values['ca-root-cert'], 'utf8'),
      controlPlane: { namespace, serviceAccount },
      ttlSeconds: parseDuration(values['cert-ttl'], '--cert-ttl'),
    };
  }
  const proxy = new Proxy({
    workload: values.workload,
    namespace: values.namespace,
    xdsAddress,
    outboundAddress: parseHostPort(values['outbound-address'], '--outbound-address'),
    inboundAddress: parseHostPort(values['inbound-address'], '--inbound-address'),
    adminAddress: parseHostPort(values['admin-address'], '--admin-address'),
    statsAddress: parseHostPort(values['stats-address'], '--stats-address'),
    healthAddress: parseHostPort(values['health-address'], '--health-address'),
    appHost: values['app-host'],
    outboundTrafficPolicy: policy,
    log,
    identity,
    tracing,
    accessLog,
    discovery,
    httpLimits,
  });
  await proxy.start();
  stopOnSignals(log, async () => {
    await proxy.drain(drainDeadlineMs);
    await proxy.stop();
  });
});
