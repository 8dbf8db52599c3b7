// Services, EndpointSlices and Pods as the mesh model's declared services and workloads. A
// Service declares its ports (so it exists, and routes to it stay valid, with no pods); each
// pod an EndpointSlice lists becomes a Workload backing that Service, with the slice's port
// numbers as target ports and the slice's conditions as readiness (terminating pods leave). Meshed pods that back no
// Service are workloads too: their sidecars need configuration all the same.
import type { V1EndpointConditions, V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { PROXY_CONTAINER_NAME } from '../../injection/sidecar-containers.ts';
import type { DeclaredService, ServicePort } from '../../model/mesh-model.ts';
import { inferProtocol, type Protocol, type Workload, type WorkloadPort } from '../../resources/workload.ts';

/** The label EndpointSlice controllers put on each slice: the Service it belongs to. */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Service `appProtocol` values (IANA names and Kubernetes' own) that say the protocol outright. */
const APP_PROTOCOLS: Readonly<Record<string, Protocol>> = {
  http: 'HTTP',
  'kubernetes.io/ws': 'HTTP',
  http2: 'HTTP2',
  'kubernetes.io/h2c': 'HTTP2',
  grpc: 'GRPC',
  tcp: 'TCP',
  tls: 'TCP',
  https: 'TCP',
  'kubernetes.io/wss': 'TCP',
};

function protocolOf(name: string, appProtocol: string | undefined, targetPort: number): Protocol {
  return (appProtocol && APP_PROTOCOLS[appProtocol.toLowerCase()]) || inferProtocol(name, targetPort);
}

/** A service port's name; single-port Services may leave it empty. */
function portName(name: string | undefined, port: number): string {
  return name || String(port);
}

function isCarried(protocol: string | undefined): boolean {
  return (protocol ?? 'TCP') === 'TCP'; // UDP and SCTP pass beside the mesh
}

/** ClusterIP and headless Services; ExternalName ones name something outside the cluster. */
export function declaredService(service: V1Service): DeclaredService | undefined {
  const { metadata, spec } = service;
  if (!metadata?.name || !metadata.namespace || !spec || spec.type === 'ExternalName') return undefined;
  const ports: ServicePort[] = (spec.ports ?? [])
    .filter((port) => isCarried(port.protocol))
    .map((port) => {
      const targetPort = typeof port.targetPort === 'number' ? port.targetPort : port.port;
      return Object.freeze({ name: portName(port.name, port.port), port: port.port, protocol: protocolOf(port.name ?? '', port.appProtocol, targetPort) });
    });
  // ClusterIPs ("None" for a headless service, which has no virtual IP).
  const addresses = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter((address) => address !== 'None' && address !== '');
  return Object.freeze({ name: metadata.name, namespace: metadata.namespace, ports: Object.freeze(ports), addresses: Object.freeze(addresses) });
}

export function hasSidecar(pod: V1Pod): boolean {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return containers.some((container) => container.name === PROXY_CONTAINER_NAME);
}

function podReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

/**
 * Whether an EndpointSlice endpoint takes new requests: ready (absent conditions mean ready, as
 * the EndpointSlice API documents) and not terminating. A terminating pod leaves rotation even
 * while it still serves (`ready` stays true for Services with publishNotReadyAddresses), as
 * Istio and Linkerd do for normal traffic: its sidecar is draining.
 */
function inRotation(conditions: V1EndpointConditions | undefined): boolean {
  return (conditions?.ready ?? true) && conditions?.terminating !== true;
}

interface Backing {
  readonly services: Set<string>;
  readonly ports: Map<number, WorkloadPort>;
  ready: boolean;
  address: string | undefined;
}

/** Workloads for pods, from the EndpointSlices that list them. */
export function kubernetesWorkloads(services: readonly DeclaredService[], slices: readonly V1EndpointSlice[], pods: readonly V1Pod[]): Workload[] {
  const servicesByKey = new Map(services.map((service) => [`${service.namespace}/${service.name}`, service]));
  const backing = new Map<string, Backing>();
  for (const slice of slices) {
    const namespace = slice.metadata?.namespace;
    const service = servicesByKey.get(`${namespace ?? ''}/${slice.metadata?.labels?.[SERVICE_NAME_LABEL] ?? ''}`);
    if (!namespace || !service || (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6')) continue;
    // Slice ports carry the target port numbers, named as the Service's ports are.
    const ports = (slice.ports ?? []).flatMap((slicePort) => {
      const servicePort = service.ports.find((candidate) => candidate.name === portName(slicePort.name, candidate.port));
      if (!servicePort || slicePort.port === undefined || !isCarried(slicePort.protocol)) return [];
      return [Object.freeze({ name: servicePort.name, port: servicePort.port, targetPort: slicePort.port, protocol: servicePort.protocol })];
    });
    for (const endpoint of slice.endpoints ?? []) {
      const ref = endpoint.targetRef;
      if (ref?.kind !== 'Pod' || !ref.name) continue;
      const key = `${ref.namespace ?? namespace}/${ref.name}`;
      let entry = backing.get(key);
      if (!entry) {
        entry = { services: new Set(), ports: new Map(), ready: false, address: endpoint.addresses[0] };
        backing.set(key, entry);
      }
      entry.services.add(service.name);
      for (const port of ports) if (!entry.ports.has(port.port)) entry.ports.set(port.port, port);
      if (inRotation(endpoint.conditions)) entry.ready = true;
    }
  }

  const workloads: Workload[] = [];
  for (const pod of pods) {
    const name = pod.metadata?.name;
    const namespace = pod.metadata?.namespace;
    if (!name || !namespace) continue;
    const entry = backing.get(`${namespace}/${name}`);
    const sidecar = hasSidecar(pod);
    const address = pod.status?.podIP ?? entry?.address;
    if ((!entry && !sidecar) || !address || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    workloads.push(
      Object.freeze({
        meta: Object.freeze({ name, namespace, labels: Object.freeze({ ...(pod.metadata?.labels ?? {}) }) }),
        services: Object.freeze([...(entry?.services ?? [])].sort()),
        address,
        ports: Object.freeze([...(entry?.ports.values() ?? [])].sort((a, b) => a.port - b.port)),
        serviceAccount: pod.spec?.serviceAccountName ?? 'default',
        hasSidecar: sidecar,
        sidecarInbound: undefined,
        ready: entry ? entry.ready : podReady(pod),
      }),
    );
  }
  return workloads;
}
