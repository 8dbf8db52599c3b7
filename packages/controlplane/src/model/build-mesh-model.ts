// Cross-references validated documents into a MeshModel: derives services from workloads,
// resolves route hosts and destinations to services, and checks that every reference
// (host, subset, port) exists. Problems name the document and the field.
import type { FieldPath } from '../registry/field.ts';
import type { DestinationPolicy } from '../resources/destination-policy.ts';
import { objectKey, type ObjectMeta } from '../resources/object-meta.ts';
import type { HttpRouteRule, ServiceTarget, TrafficRoute } from '../resources/traffic-route.ts';
import type { Workload } from '../resources/workload.ts';
import {
  workloadId,
  type MeshDocuments,
  type MeshModel,
  type ResolvedRouteRule,
  type ResolvedTarget,
  type ResolvedTrafficRoute,
  type Service,
  type ServiceEndpoint,
  type ServicePort,
} from './mesh-model.ts';

export interface ModelProblem {
  /** Kind of the document at fault, e.g. "TrafficRoute". */
  readonly kind: string;
  /** "namespace/name" of the document at fault. */
  readonly key: string;
  readonly path: FieldPath;
  readonly problem: string;
}

export type BuildResult = { readonly ok: true; readonly model: MeshModel } | { readonly ok: false; readonly problems: readonly ModelProblem[] };

export interface ModelSettings {
  readonly clusterDomain: string;
  readonly trustDomain: string;
  /** Namespace whose selector-less policies apply mesh-wide (Istio's istio-system). */
  readonly rootNamespace: string;
}

export const DEFAULT_MODEL_SETTINGS: ModelSettings = Object.freeze({ clusterDomain: 'cluster.local', trustDomain: 'cluster.local', rootNamespace: 'weft-system' });

class ProblemList {
  readonly items: ModelProblem[] = [];
  add(kind: string, meta: ObjectMeta, path: FieldPath, problem: string): void {
    this.items.push({ kind, key: objectKey(meta), path, problem });
  }
}

/** Resolves a host as written in a document of `namespace` to a service hostname. */
export function resolveHostname(host: string, namespace: string, clusterDomain: string): string {
  const parts = host.split('.');
  if (parts.length === 1) return `${host}.${namespace}.svc.${clusterDomain}`;
  if (parts.length === 2) return `${host}.svc.${clusterDomain}`;
  if (parts.length === 3 && parts[2] === 'svc') return `${host}.${clusterDomain}`;
  return host;
}

function buildServices(documents: MeshDocuments, clusterDomain: string, problems: ProblemList): Map<string, Service> {
  const building = new Map<string, { name: string; namespace: string; declared: boolean; addresses: readonly string[]; ports: Map<string, ServicePort>; endpoints: ServiceEndpoint[] }>();
  for (const declared of documents.declaredServices) {
    const ports = new Map(declared.ports.map((port) => [port.name, port]));
    building.set(resolveHostname(declared.name, declared.namespace, clusterDomain), { name: declared.name, namespace: declared.namespace, declared: true, addresses: declared.addresses, ports, endpoints: [] });
  }
  for (const workload of documents.workloads) {
    for (const serviceName of workload.services) {
      const hostname = resolveHostname(serviceName, workload.meta.namespace, clusterDomain);
      let service = building.get(hostname);
      if (!service) {
        service = { name: serviceName, namespace: workload.meta.namespace, declared: false, addresses: [], ports: new Map(), endpoints: [] };
        building.set(hostname, service);
      }
      // A declared service's ports are its own; otherwise its workloads must agree on them.
      for (const [index, port] of service.declared ? [] : workload.ports.entries()) {
        const existing = service.ports.get(port.name);
        if (existing && (existing.port !== port.port || existing.protocol !== port.protocol)) {
          problems.add('Workload', workload.meta, ['spec', 'ports', index], `port "${port.name}" is ${port.port}/${port.protocol} here but ${existing.port}/${existing.protocol} on another workload of service ${serviceName}`);
        }
        service.ports.set(port.name, Object.freeze({ name: port.name, port: port.port, protocol: port.protocol }));
      }
      service.endpoints.push(
        Object.freeze({
          workload: workloadId(workload),
          address: workload.address,
          labels: workload.meta.labels,
          serviceAccount: workload.serviceAccount,
          ready: workload.ready,
          proxyAddress: workload.sidecarInbound,
          mtls: workload.hasSidecar,
          targetPorts: new Map(workload.ports.map((port) => [port.port, port.targetPort])),
        }),
      );
    }
  }
  const services = new Map<string, Service>();
  for (const [hostname, service] of [...building].sort(([a], [b]) => (a < b ? -1 : 1))) {
    services.set(
      hostname,
      Object.freeze({
        name: service.name,
        namespace: service.namespace,
        hostname,
        ports: Object.freeze([...service.ports.values()].sort((a, b) => a.port - b.port)),
        endpoints: Object.freeze(service.endpoints),
        addresses: Object.freeze([...service.addresses]),
      }),
    );
  }
  return services;
}

function indexPolicies(policies: readonly DestinationPolicy[], services: Map<string, Service>, clusterDomain: string, problems: ProblemList): Map<string, DestinationPolicy> {
  const byHost = new Map<string, DestinationPolicy>();
  for (const policy of policies) {
    const hostname = resolveHostname(policy.host, policy.meta.namespace, clusterDomain);
    const other = byHost.get(hostname);
    if (!services.has(hostname)) problems.add('DestinationPolicy', policy.meta, ['spec', 'host'], `unknown host "${policy.host}" (no service ${hostname})`);
    else if (other) problems.add('DestinationPolicy', policy.meta, ['spec', 'host'], `${hostname} already has DestinationPolicy ${objectKey(other.meta)}`);
    else byHost.set(hostname, policy);
  }
  return byHost;
}

interface ResolveContext {
  readonly services: Map<string, Service>;
  readonly policies: Map<string, DestinationPolicy>;
  readonly clusterDomain: string;
  readonly problems: ProblemList;
}

/** Resolves `{host, subset, port}` written at `path` to a service port and subset, or reports why not. */
function resolveTarget(route: TrafficRoute, target: ServiceTarget, path: FieldPath, context: ResolveContext): ResolvedTarget | undefined {
  const hostname = resolveHostname(target.host, route.meta.namespace, context.clusterDomain);
  const service = context.services.get(hostname);
  if (!service) {
    context.problems.add('TrafficRoute', route.meta, [...path, 'host'], `unknown host "${target.host}" (no service ${hostname})`);
    return undefined;
  }
  let port = target.port;
  if (port === undefined) {
    if (service.ports.length !== 1) {
      context.problems.add('TrafficRoute', route.meta, [...path, 'port'], `required: service ${hostname} has ${service.ports.length} ports`);
      return undefined;
    }
    port = (service.ports[0] as ServicePort).port;
  } else if (!service.ports.some((servicePort) => servicePort.port === port)) {
    context.problems.add('TrafficRoute', route.meta, [...path, 'port', 'number'], `service ${hostname} has no port ${port}`);
    return undefined;
  }
  if (target.subset !== undefined) {
    const policy = context.policies.get(hostname);
    if (!policy?.subsets.some((subset) => subset.name === target.subset)) {
      context.problems.add('TrafficRoute', route.meta, [...path, 'subset'], `subset "${target.subset}" is not defined by any DestinationPolicy for ${hostname}`);
      return undefined;
    }
  }
  return { hostname, port, subset: target.subset };
}

function resolveRule(route: TrafficRoute, rule: HttpRouteRule, ruleIndex: number, context: ResolveContext): ResolvedRouteRule {
  const destinations = rule.destinations.flatMap((destination, index) => {
    const target = resolveTarget(route, destination, ['spec', 'http', ruleIndex, 'route', index, 'destination'], context);
    return target ? [Object.freeze({ ...target, weight: destination.weight })] : [];
  });
  const mirrorTarget = rule.mirror && resolveTarget(route, rule.mirror, ['spec', 'http', ruleIndex, 'mirror'], context);
  const mirror = rule.mirror && mirrorTarget ? Object.freeze({ ...mirrorTarget, percentage: rule.mirror.percentage }) : undefined;
  return Object.freeze({ ...rule, destinations: Object.freeze(destinations), mirror });
}

function resolveRoutes(routes: readonly TrafficRoute[], context: ResolveContext): Map<string, ResolvedTrafficRoute> {
  const byHost = new Map<string, ResolvedTrafficRoute>();
  for (const route of routes) {
    const rules = route.http.map((rule, ruleIndex) => resolveRule(route, rule, ruleIndex, context));
    const resolved = Object.freeze({ source: route, rules: Object.freeze(rules) });
    for (const [index, host] of route.hosts.entries()) {
      const hostname = resolveHostname(host, route.meta.namespace, context.clusterDomain);
      const other = byHost.get(hostname);
      if (!context.services.has(hostname)) context.problems.add('TrafficRoute', route.meta, ['spec', 'hosts', index], `unknown host "${host}" (no service ${hostname})`);
      else if (other) context.problems.add('TrafficRoute', route.meta, ['spec', 'hosts', index], `${hostname} is already routed by TrafficRoute ${objectKey(other.source.meta)}`);
      else byHost.set(hostname, resolved);
    }
  }
  return byHost;
}

export function buildMeshModel(documents: MeshDocuments, settings: ModelSettings = DEFAULT_MODEL_SETTINGS): BuildResult {
  const problems = new ProblemList();
  const workloads = new Map<string, Workload>();
  for (const workload of documents.workloads) {
    const id = workloadId(workload);
    if (workloads.has(id)) problems.add('Workload', workload.meta, ['metadata', 'name'], `workload ${objectKey(workload.meta)} is defined twice`);
    workloads.set(id, workload);
  }
  const services = buildServices(documents, settings.clusterDomain, problems);
  const policies = indexPolicies(documents.destinationPolicies, services, settings.clusterDomain, problems);
  const trafficRoutes = resolveRoutes(documents.trafficRoutes, { services, policies, clusterDomain: settings.clusterDomain, problems });
  if (problems.items.length > 0) return { ok: false, problems: problems.items };
  return {
    ok: true,
    model: Object.freeze({
      settings,
      services,
      workloads,
      trafficRoutes,
      destinationPolicies: policies,
      meshAuthentications: documents.meshAuthentications,
      accessPolicies: documents.accessPolicies,
    }),
  };
}
