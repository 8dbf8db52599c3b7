// MeshModel -> route configurations: the virtual host of each HTTP service port, with its
// TrafficRoute's rules in order (one route per match alternative). Built per namespace,
// because short service names only resolve inside the service's own namespace.
import { ResourceType, type weft } from '@weft/proto';
import type { MeshModel, ResolvedMirror, ResolvedRouteRule, Service, ServicePort } from '../model/mesh-model.ts';
import type { FaultPolicy } from '../resources/fault-policy.ts';
import type { HeaderOperations } from '../resources/header-operations.ts';
import type { RetryPolicy } from '../resources/retry-policy.ts';
import type { StringMatch } from '../resources/string-match.ts';
import type { RequestMatch } from '../resources/traffic-route.ts';
import { ResourceSetBuilder, type ResourceSet } from './snapshot.ts';
import { clusterName, PROTOCOL } from './translate-clusters.ts';

type RouteProperties = weft.config.v1.Route.$Properties;

function stringMatch(match: StringMatch | undefined): weft.config.v1.StringMatch.$Properties | undefined {
  return match && { [match.kind]: match.value };
}

function routeMatch(match: RequestMatch | undefined): weft.config.v1.RouteMatch.$Properties {
  if (!match) return {};
  return {
    path: stringMatch(match.uri),
    method: stringMatch(match.method),
    headers: match.headers.map((header) =>
      header.kind === 'value' ? { name: header.name, value: stringMatch(header.match) } : { name: header.name, [header.kind]: true },
    ),
    queryParams: match.queryParams.map((param) => ({ name: param.name, value: stringMatch(param.match) })),
  };
}

/** Unset when retries are off (absent, or `attempts: 0`): the proxy then tries once. */
function retryPolicy(retries: RetryPolicy | undefined): weft.config.v1.RetryPolicy.$Properties | undefined {
  if (!retries || retries.attempts === 0) return undefined;
  return {
    attempts: retries.attempts,
    perTryTimeoutMs: retries.perTryTimeoutMs ?? 0,
    retryOn: [...retries.retryOn],
    retriableStatusCodes: [...retries.retriableStatusCodes],
    backoffBaseMs: retries.backoff?.baseMs ?? 0,
    backoffMaxMs: retries.backoff?.maxMs ?? 0,
  };
}

function faultPolicy(fault: FaultPolicy | undefined): weft.config.v1.FaultPolicy.$Properties | undefined {
  if (!fault) return undefined;
  const { delay, abort } = fault;
  return {
    delay: delay && { fixedDelayMs: delay.fixedDelayMs, percentage: delay.percentage },
    abort: abort && (abort.kind === 'http' ? { httpStatus: abort.httpStatus, percentage: abort.percentage } : { grpcStatus: abort.grpcCode, percentage: abort.percentage }),
  };
}

function mirrorPolicy(mirror: ResolvedMirror | undefined): weft.config.v1.MirrorPolicy.$Properties | undefined {
  return mirror && { cluster: clusterName(mirror.hostname, mirror.port, mirror.subset), percentage: mirror.percentage };
}

function headerOperations(operations: HeaderOperations | undefined): weft.config.v1.HeaderOperations.$Properties | undefined {
  return operations && { set: { ...operations.set }, add: { ...operations.add }, remove: [...operations.remove] };
}

/** What every route made from `rule` has besides its match. */
function ruleAction(rule: ResolvedRouteRule): Omit<RouteProperties, 'name' | 'match'> {
  return {
    clusters: rule.destinations.map((destination) => ({ cluster: clusterName(destination.hostname, destination.port, destination.subset), weight: destination.weight })),
    timeoutMs: rule.timeoutMs ?? 0,
    retries: retryPolicy(rule.retries),
    fault: faultPolicy(rule.fault),
    mirror: mirrorPolicy(rule.mirror),
    requestHeaders: headerOperations(rule.headers?.request),
    responseHeaders: headerOperations(rule.headers?.response),
  };
}

function routesFor(model: MeshModel, service: Service, port: ServicePort): RouteProperties[] {
  const trafficRoute = model.trafficRoutes.get(service.hostname);
  // HTTP rules do not apply to opaque TCP: its one route only says which cluster serves the port.
  if (!trafficRoute || port.protocol === 'TCP') {
    return [{ name: 'default', match: {}, clusters: [{ cluster: clusterName(service.hostname, port.port, undefined), weight: 100 }] }];
  }
  return trafficRoute.rules.flatMap((rule, index) => {
    const action = ruleAction(rule);
    const matches: (RequestMatch | undefined)[] = rule.matches.length > 0 ? [...rule.matches] : [undefined];
    return matches.map((match) => ({ name: rule.name ?? `${trafficRoute.source.meta.name}.${index}`, match: routeMatch(match), ...action }));
  });
}

/** Names a service answers to from a proxy in `namespace` (short names only within its own), and its virtual IPs. */
function domains(service: Service, namespace: string): string[] {
  const names = [service.hostname, `${service.name}.${service.namespace}.svc`, `${service.name}.${service.namespace}`];
  if (service.namespace === namespace) names.push(service.name);
  return [...names, ...service.addresses];
}

export function routes(model: MeshModel, namespace: string): ResourceSet {
  const set = new ResourceSetBuilder(ResourceType.route);
  for (const service of model.services.values()) {
    for (const port of service.ports) {
      const name = `${service.hostname}:${port.port}`;
      const names = domains(service, namespace);
      set.add(name, { name, service: service.hostname, port: port.port, domains: names, routes: routesFor(model, service, port), protocol: PROTOCOL[port.protocol] }, names.map((domain) => `${domain}:${port.port}`));
    }
  }
  return set.build();
}
