// The annotations a pod can carry to shape its sidecar: capture exclusions, proxy resources and
// log level. Each is checked here, so a typo is an error naming the annotation rather than a
// pod the API server refuses, or one whose traffic silently bypasses the proxy.
import { isIP } from 'node:net';
import { FieldError } from '../registry/field.ts';
import { LOG_LEVELS, type InjectionSettings, type ProxyResources } from './injection-settings.ts';
import { parseQuantity, type Quantity } from './quantity.ts';

export const ANNOTATIONS = {
  /** "false" opts a pod out; "true" opts it in (see injection-policy.ts). Label or annotation. */
  inject: 'weft.dev/inject',
  /** "injected" once a pod has its sidecar: the idempotency marker. */
  status: 'weft.dev/status',
  injectorVersion: 'weft.dev/injector-version',
  excludeInboundPorts: 'weft.dev/exclude-inbound-ports',
  excludeOutboundPorts: 'weft.dev/exclude-outbound-ports',
  excludeOutboundCidrs: 'weft.dev/exclude-outbound-cidrs',
  includeOutboundCidrs: 'weft.dev/include-outbound-cidrs',
  proxyCpu: 'weft.dev/proxy-cpu',
  proxyMemory: 'weft.dev/proxy-memory',
  proxyCpuLimit: 'weft.dev/proxy-cpu-limit',
  proxyMemoryLimit: 'weft.dev/proxy-memory-limit',
  proxyLogLevel: 'weft.dev/proxy-log-level',
} as const;

export type Annotations = Readonly<Record<string, string>>;

/** What `weft-init` is told to leave alone (or, for includeOutboundCidrs, to capture only). */
export interface CaptureExclusions {
  readonly excludeInboundPorts: readonly number[];
  readonly excludeOutboundPorts: readonly number[];
  readonly excludeOutboundCidrs: readonly string[];
  /** Undefined: capture all outbound traffic (weft-init's default). */
  readonly includeOutboundCidrs: readonly string[] | undefined;
}

export interface PodSidecarOptions {
  readonly capture: CaptureExclusions;
  readonly resources: ProxyResources;
  readonly logLevel: string;
}

function annotationError(name: string, problem: string): FieldError {
  return new FieldError(['metadata', 'annotations', name], problem);
}

/** The comma-separated items of an annotation, trimmed, empty ones dropped, duplicates removed. */
function listItems(value: string): string[] {
  return [...new Set(value.split(',').map((item) => item.trim()).filter((item) => item !== ''))];
}

function ports(annotations: Annotations, name: string): number[] {
  const value = annotations[name];
  if (value === undefined) return [];
  return listItems(value).map((item) => {
    const port = /^\d{1,5}$/.test(item) ? Number(item) : NaN;
    if (!(port >= 1 && port <= 65535)) throw annotationError(name, `"${item}" is not a port (1-65535); expected a comma-separated list such as "8080,9090"`);
    return port;
  });
}

/** A CIDR as weft-init passes it to iptables; a bare address means that one host. */
function cidr(name: string, item: string): string {
  const [address = '', prefix, extra] = item.split('/');
  const family = isIP(address);
  const width = family === 4 ? 32 : 128;
  if (family === 0 || extra !== undefined) throw annotationError(name, `"${item}" is not a CIDR (such as 10.0.0.0/8 or fd00::/8)`);
  if (prefix === undefined) return `${address}/${width}`;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > width) throw annotationError(name, `"${item}": the prefix length must be 0-${width}`);
  return `${address}/${Number(prefix)}`;
}

function cidrs(annotations: Annotations, name: string, allowAll: boolean): string[] | undefined {
  const value = annotations[name];
  if (value === undefined) return undefined;
  const items = listItems(value);
  // "*" (everything) is only meaningful as the include list, where it is weft-init's default.
  if (allowAll && items.includes('*')) {
    if (items.length > 1) throw annotationError(name, `"*" (all addresses) cannot be combined with other CIDRs`);
    return undefined;
  }
  return items.map((item) => cidr(name, item));
}

function quantity(annotations: Annotations, name: string): Quantity | undefined {
  const value = annotations[name];
  if (value === undefined) return undefined;
  const parsed = parseQuantity(value.trim());
  if (!parsed) throw annotationError(name, `"${value}" is not a positive Kubernetes quantity (examples: ${name.includes('cpu') ? '100m, 0.5, 2' : '128Mi, 1Gi'})`);
  return parsed;
}

/**
 * A request and limit for one resource. An annotated request above the default limit raises
 * the limit to it (and an annotated limit below the default request lowers the request), since
 * the API server refuses a pod whose request exceeds its limit; only two annotations that
 * contradict each other are an error.
 */
function requestAndLimit(annotations: Annotations, requestName: string, limitName: string, defaults: { request: string; limit: string }): { request: string; limit: string } {
  const request = quantity(annotations, requestName);
  const limit = quantity(annotations, limitName);
  if (request && limit) {
    if (request.value > limit.value) throw annotationError(requestName, `"${request.text}" is above ${limitName} "${limit.text}"`);
    return { request: request.text, limit: limit.text };
  }
  if (request) {
    const defaultLimit = parseQuantity(defaults.limit) as Quantity;
    return { request: request.text, limit: request.value > defaultLimit.value ? request.text : defaults.limit };
  }
  if (limit) {
    const defaultRequest = parseQuantity(defaults.request) as Quantity;
    return { request: defaultRequest.value > limit.value ? limit.text : defaults.request, limit: limit.text };
  }
  return defaults;
}

/** The sidecar options a pod's annotations ask for, over `settings`. Throws FieldError naming the annotation. */
export function readSidecarOptions(annotations: Annotations, settings: InjectionSettings): PodSidecarOptions {
  const { requests, limits } = settings.proxyResources;
  const cpu = requestAndLimit(annotations, ANNOTATIONS.proxyCpu, ANNOTATIONS.proxyCpuLimit, { request: requests.cpu, limit: limits.cpu });
  const memory = requestAndLimit(annotations, ANNOTATIONS.proxyMemory, ANNOTATIONS.proxyMemoryLimit, { request: requests.memory, limit: limits.memory });
  const logLevel = annotations[ANNOTATIONS.proxyLogLevel]?.trim() ?? settings.logLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw annotationError(ANNOTATIONS.proxyLogLevel, `"${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  return {
    capture: {
      excludeInboundPorts: ports(annotations, ANNOTATIONS.excludeInboundPorts),
      excludeOutboundPorts: ports(annotations, ANNOTATIONS.excludeOutboundPorts),
      excludeOutboundCidrs: cidrs(annotations, ANNOTATIONS.excludeOutboundCidrs, false) ?? [],
      includeOutboundCidrs: cidrs(annotations, ANNOTATIONS.includeOutboundCidrs, true),
    },
    resources: { requests: { cpu: cpu.request, memory: memory.request }, limits: { cpu: cpu.limit, memory: memory.limit } },
    logLevel,
  };
}
