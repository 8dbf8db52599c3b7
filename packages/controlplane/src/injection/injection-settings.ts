// What the injector puts into every pod unless the pod's annotations say otherwise: images,
// where the proxy finds the control plane, resources and log level. The webhook (from the
// control plane's flags) and `weft inject` (from its own flags) build the same settings here,
// so both inject identical pods.
import { parseHostPort } from '@weft/runtime';
import controlPlanePackage from '../../package.json' with { type: 'json' };
import { parseQuantity } from './quantity.ts';

/** Weft's version, recorded in each injected pod (`weft.dev/injector-version`). */
export const INJECTOR_VERSION: string = controlPlanePackage.version;

export interface ResourceAmounts {
  /** Kubernetes quantities, as they go into the pod ("50m", "64Mi"). */
  readonly cpu: string;
  readonly memory: string;
}

export interface ProxyResources {
  readonly requests: ResourceAmounts;
  readonly limits: ResourceAmounts;
}

export interface InjectionSettings {
  readonly proxyImage: string;
  /** The image of `weft-init` (iptables capture); the proxy image when not set apart. */
  readonly initImage: string;
  /** The control plane's TLS port (certificates and xDS), as the proxy dials it. */
  readonly controlPlaneAddress: string;
  readonly trustDomain: string;
  readonly proxyResources: ProxyResources;
  /** The proxy's log level (WEFT_LOG_LEVEL) unless `weft.dev/proxy-log-level` says otherwise. */
  readonly logLevel: string;
  /**
   * Namespaces whose pods never get a sidecar, whatever their labels say: Kubernetes' own,
   * and the control plane's (a control plane behind its own sidecar would need itself to start).
   */
  readonly neverInjectNamespaces: readonly string[];
}

export const DEFAULT_PROXY_IMAGE = `weft-proxy:${INJECTOR_VERSION}`;

export const DEFAULT_INJECTION_SETTINGS: InjectionSettings = Object.freeze({
  proxyImage: DEFAULT_PROXY_IMAGE,
  initImage: DEFAULT_PROXY_IMAGE,
  controlPlaneAddress: 'weft-controlplane.weft-system.svc:15012',
  trustDomain: 'cluster.local',
  // A Node.js proxy idles in about 50 MiB; 256 MiB leaves room for connection buffers. One
  // core is a cap, not a reservation: requests stay small so injection fits on busy nodes.
  proxyResources: Object.freeze({
    requests: Object.freeze({ cpu: '50m', memory: '64Mi' }),
    limits: Object.freeze({ cpu: '1000m', memory: '256Mi' }),
  }),
  logLevel: 'info',
  neverInjectNamespaces: Object.freeze(['kube-system', 'kube-public', 'kube-node-lease', 'weft-system']),
});

/** pino's levels: what the proxy's WEFT_LOG_LEVEL accepts. */
export const LOG_LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * The flag that sets each setting, used in error messages. The control plane and `weft inject`
 * both spell them this way.
 */
export const SETTING_FLAGS: Readonly<Record<keyof InjectionSettings, string>> = {
  proxyImage: '--proxy-image',
  initImage: '--init-image',
  controlPlaneAddress: '--controlplane-address',
  trustDomain: '--trust-domain',
  proxyResources: '--proxy-resources',
  logLevel: '--proxy-log-level',
  neverInjectNamespaces: '--never-inject-namespaces',
};

export class InjectionSettingsError extends Error {
  constructor(setting: keyof InjectionSettings, problem: string) {
    super(`${SETTING_FLAGS[setting]}: ${problem}`);
    this.name = 'InjectionSettingsError';
  }
}

// An image reference as the kubelet pulls it: no whitespace, no scheme.
const IMAGE = /^[^\s/:][^\s]*$/;
const TRUST_DOMAIN = /^[a-z0-9]([-a-z0-9.]{0,253}[a-z0-9])?$/;

function checkImage(setting: 'proxyImage' | 'initImage', image: string): string {
  if (!IMAGE.test(image) || image.includes('://')) throw new InjectionSettingsError(setting, `"${image}" is not an image reference (for example registry.example/weft-proxy:0.1.0)`);
  return image;
}

function checkAmounts(where: 'requests' | 'limits', amounts: ResourceAmounts): ResourceAmounts {
  for (const resource of ['cpu', 'memory'] as const) {
    if (!parseQuantity(amounts[resource])) {
      throw new InjectionSettingsError('proxyResources', `${where}.${resource}: "${amounts[resource]}" is not a positive Kubernetes quantity (examples: 100m, 0.5, 128Mi)`);
    }
  }
  return Object.freeze({ cpu: amounts.cpu, memory: amounts.memory });
}

/** The defaults with `overrides` applied, checked; `initImage` follows `proxyImage` unless given. */
export function resolveInjectionSettings(overrides: Partial<InjectionSettings> = {}): InjectionSettings {
  const defaults = DEFAULT_INJECTION_SETTINGS;
  const proxyImage = checkImage('proxyImage', overrides.proxyImage ?? defaults.proxyImage);
  const initImage = checkImage('initImage', overrides.initImage ?? proxyImage);
  const controlPlaneAddress = overrides.controlPlaneAddress ?? defaults.controlPlaneAddress;
  try {
    parseHostPort(controlPlaneAddress, 'address');
  } catch {
    throw new InjectionSettingsError('controlPlaneAddress', `"${controlPlaneAddress}" is not host:port (for example weft-controlplane.weft-system.svc:15012)`);
  }
  const trustDomain = overrides.trustDomain ?? defaults.trustDomain;
  if (!TRUST_DOMAIN.test(trustDomain)) throw new InjectionSettingsError('trustDomain', `"${trustDomain}" is not a trust domain (lower-case DNS name, such as cluster.local)`);
  const resources = overrides.proxyResources ?? defaults.proxyResources;
  const proxyResources = Object.freeze({ requests: checkAmounts('requests', resources.requests), limits: checkAmounts('limits', resources.limits) });
  for (const resource of ['cpu', 'memory'] as const) {
    const request = parseQuantity(proxyResources.requests[resource]);
    const limit = parseQuantity(proxyResources.limits[resource]);
    if (request && limit && request.value > limit.value) {
      throw new InjectionSettingsError('proxyResources', `requests.${resource} ${request.text} is above limits.${resource} ${limit.text}`);
    }
  }
  const logLevel = overrides.logLevel ?? defaults.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new InjectionSettingsError('logLevel', `"${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  const neverInjectNamespaces = Object.freeze([...(overrides.neverInjectNamespaces ?? defaults.neverInjectNamespaces)]);
  return Object.freeze({ proxyImage, initImage, controlPlaneAddress, trustDomain, proxyResources, logLevel, neverInjectNamespaces });
}
