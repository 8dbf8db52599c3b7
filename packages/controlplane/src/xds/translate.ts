// MeshModel -> the resources one proxy is configured with. Clusters and endpoints are the same
// for every proxy of a model and are built once (translate-clusters.ts); routes depend on the
// proxy's namespace (short names resolve there) and are built once per namespace
// (translate-routes.ts); listeners and access policies are the proxy's own.
import { ResourceType, weft, type ResourceKind } from '@weft/proto';
import type { MeshModel } from '../model/mesh-model.ts';
import { effectiveMtlsMode, selects } from '../model/mtls-mode.ts';
import type { Workload } from '../resources/workload.ts';
import { ResourceSetBuilder, type ProxySnapshot, type ResourceSet } from './snapshot.ts';
import { clustersAndEndpoints, PROTOCOL } from './translate-clusters.ts';
import { routes } from './translate-routes.ts';

export { clusterName } from './translate-clusters.ts';

const config = weft.config.v1;

const TLS_MODE = { STRICT: config.TlsMode.STRICT, PERMISSIVE: config.TlsMode.PERMISSIVE, DISABLE: config.TlsMode.DISABLE };

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
  const seen = new Set<number>();
  for (const port of workload?.ports ?? []) {
    // Two services may send to the same target port (a Kubernetes pod behind both): one listener.
    if (seen.has(port.targetPort)) continue;
    seen.add(port.targetPort);
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
