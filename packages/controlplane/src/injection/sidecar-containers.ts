// The objects injection adds to a pod: the `weft-init` capture container, the `weft-proxy`
// native sidecar, and the volumes carrying the proxy's identity token and bootstrap root.
// Plain Kubernetes JSON, built fresh for each pod.
import { PROXY_NODE_OPTIONS } from '@weft/runtime';
import type { InjectionSettings } from './injection-settings.ts';
import type { CaptureExclusions, PodSidecarOptions } from './pod-annotations.ts';

export type KubeObject = Record<string, unknown>;

export const INIT_CONTAINER_NAME = 'weft-init';
export const PROXY_CONTAINER_NAME = 'weft-proxy';
export const TOKEN_VOLUME_NAME = 'weft-token';
export const ROOT_CERT_VOLUME_NAME = 'weft-root-cert';
/** Names a pod must not already use for something else. */
export const RESERVED_CONTAINER_NAMES: readonly string[] = [INIT_CONTAINER_NAME, PROXY_CONTAINER_NAME];
export const RESERVED_VOLUME_NAMES: readonly string[] = [TOKEN_VOLUME_NAME, ROOT_CERT_VOLUME_NAME];

/** The proxy's UID and GID; capture exempts this UID, so the proxy's own traffic is not looped back. */
export const PROXY_UID = 1337;

export const PROXY_PORTS = {
  outbound: 15001,
  inbound: 15006,
  admin: 15000,
  stats: 15090,
  health: 15021,
} as const;

/** The service-account token audience the control plane's TokenReview accepts. */
export const TOKEN_AUDIENCE = 'weft-ca';
// 12 h: the kubelet refreshes a projected token at 80% of its life, and the proxy reads the file
// again for each certificate request.
export const TOKEN_EXPIRATION_SECONDS = 43_200;
const TOKEN_DIR = '/var/run/secrets/weft/tokens';
const TOKEN_FILE = 'weft-ca-token';
/** The ConfigMap the control plane publishes in each meshed namespace. */
export const ROOT_CERT_CONFIG_MAP = 'weft-root-cert';
const ROOT_CERT_DIR = '/var/run/weft/root-cert';
const ROOT_CERT_KEY = 'root-cert.pem';

/**
 * `weft-init`'s command line: the contract with the capture program. Ports and CIDRs are
 * comma-separated; the health and metrics ports are always excluded from inbound capture so the
 * kubelet and Prometheus reach the proxy itself.
 */
export function initArgs(capture: CaptureExclusions): string[] {
  const inbound = [...new Set([PROXY_PORTS.health, PROXY_PORTS.stats, ...capture.excludeInboundPorts])];
  const args = [
    '--proxy-uid', String(PROXY_UID),
    '--inbound-capture-port', String(PROXY_PORTS.inbound),
    '--outbound-capture-port', String(PROXY_PORTS.outbound),
    '--exclude-inbound-ports', inbound.join(','),
  ];
  if (capture.excludeOutboundPorts.length > 0) args.push('--exclude-outbound-ports', capture.excludeOutboundPorts.join(','));
  if (capture.excludeOutboundCidrs.length > 0) args.push('--exclude-outbound-cidrs', capture.excludeOutboundCidrs.join(','));
  // Present only when annotated; an empty list means "capture no outbound traffic".
  if (capture.includeOutboundCidrs !== undefined) args.push('--include-outbound-cidrs', capture.includeOutboundCidrs.join(','));
  return args;
}

export function initContainer(settings: InjectionSettings, capture: CaptureExclusions): KubeObject {
  return {
    name: INIT_CONTAINER_NAME,
    image: settings.initImage,
    command: ['weft-init'],
    args: initArgs(capture),
    // Writing iptables rules needs root with NET_ADMIN and NET_RAW in the pod's network
    // namespace, and nothing else; the container exits before the application starts.
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    },
    resources: {
      requests: { cpu: '10m', memory: '16Mi' },
      limits: { cpu: '100m', memory: '64Mi' },
    },
  };
}

function fieldEnv(name: string, fieldPath: string): KubeObject {
  return { name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } };
}

function httpProbe(timing: KubeObject): KubeObject {
  return { httpGet: { path: '/healthz/ready', port: PROXY_PORTS.health, scheme: 'HTTP' }, ...timing };
}

/** A pod's terminationGracePeriodSeconds when it does not say. */
export const DEFAULT_GRACE_PERIOD_SECONDS = 30;
/** What the drain leaves of the grace period, at most: time to exit before the kubelet's SIGKILL. */
const DRAIN_MARGIN_SECONDS = 5;

/**
 * The proxy's drain deadline for a pod's grace period: the grace period less a margin of 5 s,
 * or of half of it when shorter (30 s -> 25 s, 6 s -> 3 s); at least 1 s.
 */
export function drainDeadlineSeconds(gracePeriodSeconds: number): number {
  return Math.max(1, gracePeriodSeconds - Math.min(DRAIN_MARGIN_SECONDS, Math.floor(gracePeriodSeconds / 2)));
}

export function proxyContainer(settings: InjectionSettings, options: PodSidecarOptions, gracePeriodSeconds: number): KubeObject {
  return {
    name: PROXY_CONTAINER_NAME,
    image: settings.proxyImage,
    // A native sidecar (Kubernetes >= 1.29): an init container that keeps running. It starts
    // before the pod's own init containers and main containers, and is stopped after them, so
    // a Job completes when its main containers do.
    restartPolicy: 'Always',
    command: ['weft-proxy'],
    args: [
      '--xds-address', settings.controlPlaneAddress,
      '--workload', '$(POD_NAME)',
      '--namespace', '$(POD_NAMESPACE)',
      '--token-file', `${TOKEN_DIR}/${TOKEN_FILE}`,
      '--ca-root-cert', `${ROOT_CERT_DIR}/${ROOT_CERT_KEY}`,
      '--outbound-address', `127.0.0.1:${PROXY_PORTS.outbound}`,
      '--inbound-address', `0.0.0.0:${PROXY_PORTS.inbound}`,
      '--admin-address', `127.0.0.1:${PROXY_PORTS.admin}`,
      '--stats-address', `0.0.0.0:${PROXY_PORTS.stats}`,
      '--health-address', `0.0.0.0:${PROXY_PORTS.health}`,
    ],
    env: [
      fieldEnv('POD_NAME', 'metadata.name'),
      fieldEnv('POD_NAMESPACE', 'metadata.namespace'),
      fieldEnv('SERVICE_ACCOUNT', 'spec.serviceAccountName'),
      fieldEnv('POD_IP', 'status.podIP'),
      { name: 'WEFT_LOG_LEVEL', value: options.logLevel },
      { name: 'WEFT_TRUST_DOMAIN', value: settings.trustDomain },
      { name: 'NODE_OPTIONS', value: PROXY_NODE_OPTIONS },
      // One shutdown knob, derived from the pod's own: the proxy drains, then exits, within it.
      { name: 'WEFT_DRAIN_DEADLINE', value: `${drainDeadlineSeconds(gracePeriodSeconds)}s` },
    ],
    ports: [
      { name: 'weft-metrics', containerPort: PROXY_PORTS.stats, protocol: 'TCP' },
      { name: 'weft-health', containerPort: PROXY_PORTS.health, protocol: 'TCP' },
    ],
    // The kubelet starts the next container only once a sidecar's startup probe passes: the
    // application's containers (init ones included) start with a proxy that has its
    // certificate and configuration. Up to 10 minutes, polled every second.
    startupProbe: httpProbe({ periodSeconds: 1, timeoutSeconds: 3, failureThreshold: 600 }),
    readinessProbe: httpProbe({ periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 4 }),
    resources: {
      requests: { ...options.resources.requests },
      limits: { ...options.resources.limits },
    },
    securityContext: {
      runAsUser: PROXY_UID,
      runAsGroup: PROXY_UID,
      runAsNonRoot: true,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    volumeMounts: [
      { name: TOKEN_VOLUME_NAME, mountPath: TOKEN_DIR, readOnly: true },
      { name: ROOT_CERT_VOLUME_NAME, mountPath: ROOT_CERT_DIR, readOnly: true },
    ],
  };
}

export function sidecarVolumes(): KubeObject[] {
  return [
    {
      name: TOKEN_VOLUME_NAME,
      projected: {
        sources: [{ serviceAccountToken: { audience: TOKEN_AUDIENCE, expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: TOKEN_FILE } }],
      },
    },
    {
      name: ROOT_CERT_VOLUME_NAME,
      configMap: { name: ROOT_CERT_CONFIG_MAP, items: [{ key: ROOT_CERT_KEY, path: ROOT_CERT_KEY }] },
    },
  ];
}
