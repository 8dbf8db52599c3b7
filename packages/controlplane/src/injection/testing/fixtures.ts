// Pods and AdmissionReviews for the injection tests (the webhook's, and `weft inject`'s).
import { parseAllDocuments } from 'yaml';
import { ADMISSION_API_VERSION } from '../admission-review.ts';

export type Pod = Record<string, unknown>;

/** A plain application pod, as a Deployment's ReplicaSet would create it. */
export function samplePod(overrides: { annotations?: Record<string, string>; labels?: Record<string, string>; spec?: Record<string, unknown> } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'orders-7d9f8-',
      namespace: 'shop',
      labels: { app: 'orders', ...overrides.labels },
      ...(overrides.annotations ? { annotations: overrides.annotations } : {}),
    },
    spec: {
      serviceAccountName: 'orders',
      initContainers: [{ name: 'migrate', image: 'registry.example/orders:1.2', command: ['migrate'] }],
      containers: [{ name: 'app', image: 'registry.example/orders:1.2', ports: [{ containerPort: 8080, name: 'http' }] }],
      volumes: [{ name: 'config', configMap: { name: 'orders' } }],
      ...overrides.spec,
    },
  };
}

let reviews = 0;

/** An AdmissionReview v1 request for creating `pod` in `namespace`. */
export function admissionReview(pod: unknown, options: { namespace?: string; operation?: string; kind?: string; uid?: string } = {}): Record<string, unknown> {
  reviews += 1;
  const kind = options.kind ?? 'Pod';
  return {
    apiVersion: ADMISSION_API_VERSION,
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? `705ab4f5-6393-11e8-b7cc-42010a80${String(reviews).padStart(4, '0')}`,
      kind: { group: '', version: 'v1', kind },
      resource: { group: '', version: 'v1', resource: `${kind.toLowerCase()}s` },
      requestKind: { group: '', version: 'v1', kind },
      requestResource: { group: '', version: 'v1', resource: `${kind.toLowerCase()}s` },
      namespace: options.namespace ?? 'shop',
      operation: options.operation ?? 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts'] },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

/** The documents of a multi-document YAML text, as plain values (for tests outside this package, which has the YAML dependency). */
export function readYamlDocuments(text: string): unknown[] {
  return parseAllDocuments(text).map((doc) => doc.toJS() as unknown);
}
