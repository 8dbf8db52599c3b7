// MeshModel -> the resources one proxy is configured with. Clusters and endpoints are the same
// for every proxy of a model and are built once; routes depend on the proxy's namespace (short
// names resolve there) and are built once per namespace; listeners are the proxy's own.
import { ResourceType, weft, type ResourceKind } from '@weft/proto';
import type { MeshModel, Service, ServicePort } from '../model/mesh-model.ts';
import { effectiveMtlsMode, selects } from '../model/mtls-mode.ts';
import type { LoadBalancer, Subset } from '../resources/destination-policy.ts';
import type { StringMatch } from '../resources/string-match.ts';
import type { RequestMatch } from '../resources/traffic-route.ts';
import type { Protocol, Workload } from '../resources/workload.ts';
import { ResourceSetBuilder, type ProxySnapshot, type ResourceSet } from './snapshot.ts';

const config = weft.config.v1;

/** Istio's naming, so operators recognise it: outbound|8080|v1|orders.default.svc.cluster.local */
export function clusterName(hostname: string, port: number, subset: string | undefined): string {
  return `outbound|${port}|${subset ?? ''}|${hostname}`;
}

const PROTOCOL: Record<Protocol, weft.config.v1.Protocol> = {
  HTTP: config.Protocol.HTTP,
  HTTP2: config.Protocol.HTTP2,
  GRPC: config.Protocol.GRPC,
  TCP: config.Protocol.TCP,
};

const LB_POLICY: Record<LoadBalancer, weft.config.v1.LbPolicy> = {
  ROUND_ROBIN: config.LbPolicy.ROUND_ROBIN,
  LEAST_REQUEST: config.LbPolicy.LEAST_REQUEST,
  RANDOM: config.LbPolicy.RANDOM,
};

const TLS_MODE = { STRICT: config.TlsMode.STRICT, PERMISSIVE: config.TlsMode.PERMISSIVE, DISABLE: config.TlsMode.DISABLE };

function spiffeId(model: MeshModel, namespace: string, serviceAccount: string): string {
  return `spiffe://${model.settings.trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

function clustersAndEndpoints(model: MeshModel): { clusters: ResourceSet; endpoints: ResourceSet } {
  const clusters = new ResourceSetBuilder(ResourceType.cluster);
  const endpoints = new ResourceSetBuilder(ResourceType.endpoints);
  for (const service of model.services.values()) {
    const policy = model.destinationPolicies.get(service.hostname);
    const subsets: (Subset | undefined)[] = [undefined, ...(policy?.subsets ?? [])];
    for (const port of service.ports) {
      for (const subset of subsets) {
        const name = clusterName(service.hostname, port.port, subset?.name);
        const members = service.endpoints.filter((endpoint) => endpoint.targetPorts.has(port.port) && (!subset || selects(subset.labels, endpoint.labels)));
        const loadBalancer = subset?.trafficPolicy.loadBalancer ?? policy?.trafficPolicy.loadBalancer ?? 'ROUND_ROBIN';
        clusters.add(name, {
          name,
          service: service.hostname,
          port: port.port,
          subset: subset?.name ?? '',
          protocol: PROTOCOL[port.protocol],
          lbPolicy: LB_POLICY[loadBalancer],
          peerIdentities: [...new Set(members.map((member) => spiffeId(model, service.namespace, member.serviceAccount)))].sort(),
        });
        endpoints.add(name, {
          clusterName: name,
          endpoints: members.map((member) => ({
            address: member.address,
            port: member.targetPorts.get(port.port),
            labels: member.labels,
            weight: 1,
            ready: member.ready,
            workload: member.workload,
            proxyAddress: member.proxyAddress ?? '',
            mtls: member.mtls,
          })),
        });
      }
    }
  }
  return { clusters: clusters.build(), endpoints: endpoints.build() };
}

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
  };
}

function routesFor(model: MeshModel, service: Service, port: ServicePort): weft.config.v1.Route.$Properties[] {
  const trafficRoute = model.trafficRoutes.get(service.hostname);
  if (!trafficRoute) {
    return [{ name: 'default', match: {}, clusters: [{ cluster: clusterName(service.hostname, port.port, undefined), weight: 100 }] }];
  }
  return trafficRoute.rules.flatMap((rule, index) => {
    const clusters = rule.destinations.map((destination) => ({
      cluster: clusterName(destination.hostname, destination.port, destination.subset),
      weight: destination.weight,
    }));
    const matches: (RequestMatch | undefined)[] = rule.matches.length > 0 ? [...rule.matches] : [undefined];
    return matches.map((match) => ({
      name: rule.name ?? `${trafficRoute.source.meta.name}.${index}`,
      match: routeMatch(match),
      clusters,
      timeoutMs: rule.timeoutMs ?? 0,
    }));
  });
}

/** Names a service answers to from a proxy in `namespace` (short names only within its own). */
function domains(service: Service, namespace: string): string[] {
  const names = [service.hostname, `${service.name}.${service.namespace}.svc`, `${service.name}.${service.namespace}`];
  if (service.namespace === namespace) names.push(service.name);
  return names;
}

function routes(model: MeshModel, namespace: string): ResourceSet {
  const set = new ResourceSetBuilder(ResourceType.route);
  for (const service of model.services.values()) {
    for (const port of service.ports) {
      if (port.protocol === 'TCP') continue;
      const name = `${service.hostname}:${port.port}`;
      set.add(name, { name, service: service.hostname, port: port.port, domains: domains(service, namespace), routes: routesFor(model, service, port) });
    }
  }
  return set.build();
}

const ACCESS_ACTION = { ALLOW: config.AccessAction.ALLOW, DENY: config.AccessAction.DENY };

/** The AccessPolicies that apply to `workload`: mesh-wide (root namespace), namespace-wide, or selecting it. */
function accessPolicies(model: MeshModel, workload: Workload | undefined): ResourceSet {
  const set = new ResourceSetBuilder(ResourceType.accessPolicy);
  if (!workload) return set.build();
  const { namespace, labels } = workload.meta;
  for (const policy of model.accessPolicies) {
    const scope = policy.meta.namespace;
    const applies = policy.selector === undefined ? scope === namespace || scope === model.settings.rootNamespace : scope === namespace && selects(policy.selector, labels);
    if (!applies) continue;
    const name = `${scope}/${policy.meta.name}`;
    set.add(name, {
      name,
      action: ACCESS_ACTION[policy.action],
      rules: policy.rules.map((rule) => ({
        from: rule.from.map((source) => ({ principals: [...source.principals], namespaces: [...source.namespaces] })),
        to: rule.to.map((operation) => ({ paths: [...operation.paths], methods: [...operation.methods], ports: [...operation.ports] })),
      })),
    });
  }
  return set.build();
}

function listeners(model: MeshModel, workload: Workload | undefined): ResourceSet {
  const set = new ResourceSetBuilder(ResourceType.listener);
  for (const port of workload?.ports ?? []) {
    const name = `inbound|${port.targetPort}`;
    set.add(name, { name, port: port.targetPort, protocol: PROTOCOL[port.protocol], tlsMode: TLS_MODE[effectiveMtlsMode(model, workload as Workload, port.targetPort)] });
  }
  return set.build();
}

export interface TrustBundle {
  readonly trustDomain: string;
  readonly rootsPem: readonly string[];
}

/** Builds snapshots for the proxies of one model, sharing what proxies have in common. */
export class SnapshotTranslator {
  readonly model: MeshModel;
  private shared: { clusters: ResourceSet; endpoints: ResourceSet } | undefined;
  private readonly routesByNamespace = new Map<string, ResourceSet>();
  private readonly trustBundles: ResourceSet;

  /** Without a trust bundle (no CA), proxies get none and speak plaintext. */
  constructor(model: MeshModel, trustBundle?: TrustBundle) {
    this.model = model;
    const bundles = new ResourceSetBuilder(ResourceType.trustBundle);
    if (trustBundle) bundles.add(trustBundle.trustDomain, { name: trustBundle.trustDomain, trustDomain: trustBundle.trustDomain, rootCertificatesPem: [...trustBundle.rootsPem] });
    this.trustBundles = bundles.build();
  }

  /** A proxy whose workload the model does not know (yet) gets no listeners. */
  snapshotFor(workloadName: string, namespace: string): ProxySnapshot {
    this.shared ??= clustersAndEndpoints(this.model);
    let namespaceRoutes = this.routesByNamespace.get(namespace);
    if (!namespaceRoutes) {
      namespaceRoutes = routes(this.model, namespace);
      this.routesByNamespace.set(namespace, namespaceRoutes);
    }
    const workload = this.model.workloads.get(`${workloadName}.${namespace}`);
    const sets: Record<ResourceKind, ResourceSet> = {
      cluster: this.shared.clusters,
      endpoints: this.shared.endpoints,
      accessPolicy: accessPolicies(this.model, workload),
      listener: listeners(this.model, workload),
      route: namespaceRoutes,
      trustBundle: this.trustBundles,
    };
    return sets;
  }
}
