// The Kubernetes registry: Services, EndpointSlices, Pods, Namespaces and Weft's custom
// resources, each watched into a cache; any change (debounced) assembles a new mesh model from
// the caches. The model is built exactly as the file registry's is — only the objects' origin
// differs. Ready once every watch has listed once; a periodic resync re-assembles from the
// caches, which also re-checks CR status.
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type KubernetesListObject, type KubernetesObject, type V1EndpointSlice, type V1Namespace, type V1Pod, type V1Service } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { RegistryMetrics } from '../../metrics/controlplane-metrics.ts';
import type { ModelSettings } from '../../model/build-mesh-model.ts';
import type { DeclaredService, MeshModel } from '../../model/mesh-model.ts';
import { WEFT_API_VERSION } from '../../resources/object-meta.ts';
import { Debouncer } from '../../xds/debounce.ts';
import type { MeshRegistry, RegistryStatus } from '../mesh-registry.ts';
import { assembleMesh, CUSTOM_RESOURCE_KINDS, CUSTOM_RESOURCE_PLURALS, resourceKey, type AcceptedResource, type CustomResourceKind, type CustomResourceObject, type Verdict } from './custom-resources.ts';
import { declaredService, kubernetesWorkloads } from './kubernetes-workloads.ts';
import { ResourceWatch, type Backoff } from './resource-watch.ts';

const [WEFT_GROUP, WEFT_VERSION] = WEFT_API_VERSION.split('/') as [string, string];

export interface KubernetesRegistryOptions {
  readonly kubeConfig: KubeConfig;
  readonly log: Logger;
  readonly settings?: ModelSettings;
  readonly backoff?: Backoff;
  /** How often the model is re-assembled from the caches without a change; default 5 minutes. */
  readonly resyncMs?: number;
  /** Quiet period before a burst of changes is assembled; default 50 ms. */
  readonly settleMs?: number;
  readonly metrics?: RegistryMetrics;
}

/** A custom resource with its verdict: what the status writer needs. */
export interface JudgedResource {
  readonly kind: CustomResourceKind;
  readonly object: CustomResourceObject;
  readonly verdict: Verdict;
}

type Watches = {
  readonly services: ResourceWatch<V1Service>;
  readonly endpointSlices: ResourceWatch<V1EndpointSlice>;
  readonly pods: ResourceWatch<V1Pod>;
  readonly namespaces: ResourceWatch<V1Namespace>;
} & { readonly [K in CustomResourceKind]: ResourceWatch<KubernetesObject & CustomResourceObject> };

export class KubernetesRegistry implements MeshRegistry {
  private readonly options: KubernetesRegistryOptions;
  private readonly log: Logger;
  private readonly watches: Watches;
  private readonly debouncer: Debouncer;
  private readonly modelListeners = new Set<(model: MeshModel) => void>();
  private readonly judgedListeners = new Set<(resources: readonly JudgedResource[]) => void>();
  private readonly namespaceListeners = new Set<() => void>();
  private readonly accepted = new Map<string, AcceptedResource>();
  private model: MeshModel | undefined;
  private judged: readonly JudgedResource[] = [];
  private acceptedAt: string | undefined;
  private rejected: readonly string[] = [];
  private resync: NodeJS.Timeout | undefined;
  private started = false;
  /** When the first change of the pending burst was seen (performance.now()). */
  private changeSeenAt: number | undefined;

  constructor(options: KubernetesRegistryOptions) {
    this.options = options;
    this.log = options.log.child({ registry: 'kubernetes' });
    const { kubeConfig } = options;
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const watch = <T extends KubernetesObject>(path: string, list: () => Promise<KubernetesListObject<T>>, onChange = () => this.changed()): ResourceWatch<T> =>
      new ResourceWatch<T>({ kubeConfig, path, list, log: this.log, onChange, backoff: options.backoff, metrics: options.metrics });
    const customResources = Object.fromEntries(
      CUSTOM_RESOURCE_KINDS.map((kind) => {
        const plural = CUSTOM_RESOURCE_PLURALS[kind];
        const list = async (): Promise<KubernetesListObject<KubernetesObject & CustomResourceObject>> =>
          (await custom.listClusterCustomObject({ group: WEFT_GROUP, version: WEFT_VERSION, plural })) as KubernetesListObject<KubernetesObject & CustomResourceObject>;
        return [kind, watch(`/apis/${WEFT_API_VERSION}/${plural}`, list)];
      }),
    ) as Record<CustomResourceKind, ResourceWatch<KubernetesObject & CustomResourceObject>>;
    this.watches = {
      services: watch('/api/v1/services', () => core.listServiceForAllNamespaces({})),
      endpointSlices: watch('/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces({})),
      pods: watch('/api/v1/pods', () => core.listPodForAllNamespaces({})),
      namespaces: watch('/api/v1/namespaces', () => core.listNamespace({}), () => this.namespacesChanged()),
      ...customResources,
    };
    this.debouncer = new Debouncer({ quietMs: options.settleMs ?? 50, maxDelayMs: 1000 }, () => this.assemble());
  }

  /** Resolves after every watch has listed once, with the first model. */
  async start(): Promise<MeshModel> {
    const all = Object.values(this.watches) as ResourceWatch<KubernetesObject>[];
    for (const resourceWatch of all) resourceWatch.start();
    await Promise.all(all.map((resourceWatch) => resourceWatch.synced));
    this.started = true;
    this.debouncer.cancel();
    this.assemble();
    if (!this.model) throw new Error(`the cluster's objects do not make a mesh: ${this.rejected.join('; ')}`);
    this.resync = setInterval(() => this.assemble(), this.options.resyncMs ?? 300_000);
    this.resync.unref();
    return this.model;
  }

  current(): MeshModel {
    if (!this.model) throw new Error('registry not started');
    return this.model;
  }

  onModel(listener: (model: MeshModel) => void): () => void {
    this.modelListeners.add(listener);
    return () => this.modelListeners.delete(listener);
  }

  /** Called after every assembly with each custom resource and its verdict. */
  onJudged(listener: (resources: readonly JudgedResource[]) => void): () => void {
    this.judgedListeners.add(listener);
    return () => this.judgedListeners.delete(listener);
  }

  /** Called when namespaces change (the root certificate follows meshed namespaces). */
  onNamespaces(listener: () => void): () => void {
    this.namespaceListeners.add(listener);
    return () => this.namespaceListeners.delete(listener);
  }

  namespaces(): readonly V1Namespace[] {
    return this.watches.namespaces.list();
  }

  /** The custom resources and their verdicts from the latest assembly. */
  judgedResources(): readonly JudgedResource[] {
    return this.judged;
  }

  status(): RegistryStatus {
    return {
      source: 'kubernetes',
      acceptedAt: this.acceptedAt,
      rejected: this.rejected,
      watches: (Object.values(this.watches) as ResourceWatch<KubernetesObject>[]).map((resourceWatch) => resourceWatch.status()),
    };
  }

  stop(): void {
    clearInterval(this.resync);
    this.debouncer.cancel();
    for (const resourceWatch of Object.values(this.watches) as ResourceWatch<KubernetesObject>[]) resourceWatch.stop();
  }

  private changed(): void {
    if (!this.started) return;
    this.changeSeenAt ??= performance.now();
    this.debouncer.trigger();
  }

  private namespacesChanged(): void {
    for (const listener of this.namespaceListeners) listener();
  }

  private assemble(): void {
    const changeSeenAt = this.changeSeenAt;
    this.changeSeenAt = undefined;
    const declaredServices = this.watches.services.list().flatMap<DeclaredService>((service) => declaredService(service) ?? []);
    const workloads = kubernetesWorkloads(declaredServices, this.watches.endpointSlices.list(), this.watches.pods.list());
    const resources = CUSTOM_RESOURCE_KINDS.flatMap((kind) => this.watches[kind].list().map((object) => ({ kind, object })));
    const assembly = assembleMesh({ declaredServices, workloads }, resources, this.accepted, this.options.settings);
    for (const dropped of assembly.droppedWorkloads) this.log.warn({ workload: dropped }, 'workload left out of the mesh');
    this.judged = resources.map(({ kind, object }) => ({ kind, object, verdict: assembly.verdicts.get(resourceKey(kind, object.metadata?.namespace ?? '', object.metadata?.name ?? '')) as Verdict }));
    const rejected = this.judged.filter(({ verdict }) => !verdict.accepted).map(({ kind, object, verdict }) => `${resourceKey(kind, object.metadata?.namespace ?? '', object.metadata?.name ?? '')}: ${verdict.message}`);
    if (rejected.join('\n') !== this.rejected.join('\n') && rejected.length > 0) this.log.warn({ rejected }, 'custom resources not applied');
    this.rejected = rejected;
    this.options.metrics?.rejectedResources(rejected.length);
    for (const listener of this.judgedListeners) listener(this.judged);
    if (!assembly.model) {
      this.log.error('the cluster objects do not make a mesh; keeping the last good model');
      this.options.metrics?.updateRefused();
      return;
    }
    const first = this.model === undefined;
    this.model = assembly.model;
    this.acceptedAt = new Date().toISOString();
    this.options.metrics?.modelAccepted(changeSeenAt);
    this.log.debug({ services: assembly.model.services.size, workloads: assembly.model.workloads.size }, 'mesh assembled');
    if (!first) for (const listener of this.modelListeners) listener(assembly.model);
  }
}
