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
