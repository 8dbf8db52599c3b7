// Kubernetes objects as the cluster holds them, for registry tests against the API double.
import type { KubeObject } from './kube-api-double.ts';

export const MESH_API = 'mesh.weft.dev/v1alpha1';

export interface PortSpec {
  readonly name?: string;
  readonly port: number;
  readonly targetPort: number;
  readonly appProtocol?: string;
}

export function service(name: string, ports: readonly PortSpec[], namespace = 'default', clusterIP?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { selector: { app: name }, ...(clusterIP ? { clusterIP, clusterIPs: [clusterIP] } : {}), ports: ports.map(({ name: portName, port, targetPort, appProtocol }) => ({ name: portName, port, targetPort, protocol: 'TCP', appProtocol })) },
  };
}

export interface PodSpec {
  readonly name: string;
  readonly ip: string;
  readonly namespace?: string;
  readonly labels?: Record<string, string>;
  readonly serviceAccount?: string;
  readonly sidecar?: boolean;
  readonly ready?: boolean;
}

export function pod({ name, ip, namespace = 'default', labels = {}, serviceAccount = 'default', sidecar = true, ready = true }: PodSpec): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: {
      serviceAccountName: serviceAccount,
      // A native sidecar, as injection adds it.
      initContainers: sidecar ? [{ name: 'weft-proxy', image: 'weft/proxy', restartPolicy: 'Always' }] : [],
      containers: [{ name: 'app', image: 'app' }],
    },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

/** The EndpointSlice the endpoint controller keeps for `serviceName`, listing `pods`. */
export function endpointSlice(serviceName: string, pods: readonly { name: string; ip: string; ready?: boolean; terminating?: boolean }[], ports: readonly PortSpec[], namespace = 'default'): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${serviceName}-abcde`, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    endpoints: pods.map(({ name, ip, ready = true, terminating = false }) => ({ addresses: [ip], conditions: { ready, serving: ready, terminating }, targetRef: { kind: 'Pod', name, namespace } })),
    ports: ports.map(({ name, targetPort, appProtocol }) => ({ name: name ?? '', port: targetPort, protocol: 'TCP', appProtocol })),
  };
}

export function customResource(kind: string, name: string, spec: unknown, namespace = 'default'): KubeObject {
  return { apiVersion: MESH_API, kind, metadata: { name, namespace }, spec };
}

const HTTP: readonly PortSpec[] = [{ name: 'http', port: 8080, targetPort: 9080 }];

/** orders (two pods, v1 and v2) and frontend (one pod): a small cluster to route in. */
export function ordersCluster(): KubeObject[] {
  return [
    service('orders', HTTP, 'default', '198.19.0.10'),
    service('frontend', HTTP),
    pod({ name: 'orders-v1-0', ip: '10.0.0.11', labels: { app: 'orders', version: 'v1' }, serviceAccount: 'orders' }),
    pod({ name: 'orders-v2-0', ip: '10.0.0.12', labels: { app: 'orders', version: 'v2' }, serviceAccount: 'orders' }),
    pod({ name: 'frontend-0', ip: '10.0.0.21', labels: { app: 'frontend' }, serviceAccount: 'frontend' }),
    endpointSlice('orders', [{ name: 'orders-v1-0', ip: '10.0.0.11' }, { name: 'orders-v2-0', ip: '10.0.0.12' }], HTTP),
    endpointSlice('frontend', [{ name: 'frontend-0', ip: '10.0.0.21' }], HTTP),
  ];
}
