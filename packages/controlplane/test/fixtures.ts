// Mesh documents used by several control plane tests.
export const CANARY_MESH = `
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: {name: orders-v1, namespace: default, labels: {app: orders, version: v1}}
spec:
  service: orders
  address: 127.0.0.1
  ports: [{name: http, port: 8080, targetPort: 18081, protocol: http}]
  serviceAccount: orders
  sidecar: {inbound: "127.0.0.1:17001"}
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: {name: orders-v2, namespace: default, labels: {app: orders, version: v2}}
spec:
  service: orders
  address: 127.0.0.1
  ports: [{name: http, port: 8080, targetPort: 18082, protocol: http}]
  serviceAccount: orders
  sidecar: {inbound: "127.0.0.1:17002"}
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: {name: frontend, namespace: default, labels: {app: frontend}}
spec:
  service: frontend
  address: 127.0.0.1
  ports: [{name: http, port: 8080, targetPort: 18083}]
---
apiVersion: mesh.weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: orders}
spec:
  host: orders
  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}, trafficPolicy: {loadBalancer: {simple: RANDOM}}}
---
apiVersion: mesh.weft.dev/v1alpha1
kind: TrafficRoute
metadata: {name: orders}
spec:
  hosts: [orders]
  http:
  - name: beta
    match:
    - headers: {x-beta: {exact: "1"}}
    - uri: {prefix: /beta}
    route:
    - destination: {host: orders, subset: v2}
  - route:
    - destination: {host: orders, subset: v1}
      weight: 90
    - destination: {host: orders, subset: v2}
      weight: 10
    timeout: 1.5s
`;

// Services for the traffic-management tests: orders (v1, v2), and audit, which has two ports
// (so a reference to it must name one) and a `shadow` subset to mirror to.
export const TRAFFIC_SERVICES = `
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: {name: orders-v1, namespace: default, labels: {app: orders, version: v1}}
spec:
  service: orders
  address: 127.0.0.1
  ports: [{name: http, port: 8080, targetPort: 18081}]
  serviceAccount: orders
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: {name: orders-v2, namespace: default, labels: {app: orders, version: v2}}
spec:
  service: orders
  address: 127.0.0.1
  ports: [{name: http, port: 8080, targetPort: 18082}]
  serviceAccount: orders
---
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: {name: audit, namespace: default, labels: {app: audit, track: shadow}}
spec:
  service: audit
  address: 127.0.0.1
  ports: [{name: http, port: 8080, targetPort: 18091}, {name: admin, port: 9090, targetPort: 18092}]
---
apiVersion: mesh.weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: audit}
spec:
  host: audit
  subsets: [{name: shadow, labels: {track: shadow}}]
`;

/** Every TrafficRoute field and every DestinationPolicy traffic policy section in use. */
export const TRAFFIC_MESH = `${TRAFFIC_SERVICES}---
apiVersion: mesh.weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: orders}
spec:
  host: orders
  trafficPolicy:
    loadBalancer:
      consistentHash: {httpHeaderName: x-user, minimumRingSize: 2048}
    connectionPool:
      tcp: {maxConnections: 10, connectTimeout: 2s}
      http: {http1MaxPendingRequests: 5, http2MaxRequests: 100, maxRequestsPerConnection: 50, maxRetries: 3, idleTimeout: 30s}
    outlierDetection:
      consecutive5xxErrors: 3
      interval: 1s
      baseEjectionTime: 15s
      maxEjectionPercent: 50
    retryBudget: {percent: 25, minRetryConcurrency: 5}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      loadBalancer: {simple: LEAST_REQUEST}
      outlierDetection: {consecutiveGatewayErrors: 2}
---
apiVersion: mesh.weft.dev/v1alpha1
kind: TrafficRoute
metadata: {name: orders}
spec:
  hosts: [orders]
  http:
  - name: search
    match:
    - queryParams:
        q: {prefix: a}
        page: {regex: "[0-9]+"}
    route:
    - destination: {host: orders, subset: v2}
    retries:
      attempts: 3
      perTryTimeout: 500ms
      retryOn: "5xx, connect-failure,503,429"
      backoff: {baseInterval: 10ms, maxInterval: 100ms}
    fault:
      delay: {fixedDelay: 5s, percentage: {value: 10}}
      abort: {httpStatus: 503, percentage: {value: 0.5}}
    mirror: {host: audit, subset: shadow, port: {number: 8080}}
    mirrorPercentage: {value: 25}
    headers:
      request:
        set: {x-route: search}
        add: {x-trace-tag: search}
        remove: [x-debug]
      response:
        set: {cache-control: no-store}
  - route:
    - destination: {host: orders, subset: v1}
    retries: {attempts: 2}
    fault:
      abort: {grpcStatus: UNAVAILABLE}
    mirror: {host: audit, port: {number: 9090}}
`;

/** TRAFFIC_SERVICES with an orders TrafficRoute of one rule, written as a YAML flow mapping. */
export function trafficRouteWith(rule: string): string {
  return `${TRAFFIC_SERVICES}---
apiVersion: mesh.weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: orders}
spec:
  host: orders
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: mesh.weft.dev/v1alpha1
kind: TrafficRoute
metadata: {name: orders}
spec:
  hosts: [orders]
  http:
  - ${rule}
`;
}

/** TRAFFIC_SERVICES with an orders DestinationPolicy: top-level and v2 trafficPolicy as flow mappings. */
export function destinationPolicyWith(trafficPolicy: string, v2TrafficPolicy = '{}'): string {
  return `${TRAFFIC_SERVICES}---
apiVersion: mesh.weft.dev/v1alpha1
kind: DestinationPolicy
metadata: {name: orders}
spec:
  host: orders
  trafficPolicy: ${trafficPolicy}
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}, trafficPolicy: ${v2TrafficPolicy}}
`;
}

/** Every document kind: the traffic mesh, plus mTLS and an access policy. */
export const FUZZ_BASE_MESH = `${TRAFFIC_MESH}---
apiVersion: mesh.weft.dev/v1alpha1
kind: MeshAuthentication
metadata: {name: orders, namespace: default}
spec:
  selector: {matchLabels: {app: orders}}
  mtls: {mode: STRICT}
  portLevelMtls:
    "18081": {mode: PERMISSIVE}
---
apiVersion: mesh.weft.dev/v1alpha1
kind: AccessPolicy
metadata: {name: orders-readers, namespace: default}
spec:
  selector: {matchLabels: {app: orders}}
  action: ALLOW
  rules:
  - from: [{source: {principals: ["cluster.local/ns/default/sa/frontend"], namespaces: [default]}}]
    to: [{operation: {methods: [GET], paths: ["/orders/*"], ports: [8080]}}]
`;
