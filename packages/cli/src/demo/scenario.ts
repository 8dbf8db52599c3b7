// What `weft demo` runs: frontend -> orders -> inventory, where orders has a stable v1 (two
// replicas, one of them flaky) and a v2 canary taking 10%. Retries and outlier ejection hide the
// flaky replica from the frontend; the live table shows both.
import type { MeshDocument, WorkloadSpec } from './loopback-mesh.ts';

export const FLAKY_FAIL_RATE = 0.4;

export const WORKLOADS: readonly WorkloadSpec[] = [
  { name: 'inventory', service: 'inventory' },
  { name: 'orders-v1a', service: 'orders', version: 'v1', calls: ['inventory:8080'] },
  { name: 'orders-v1b', service: 'orders', version: 'v1', calls: ['inventory:8080'], appArgs: ['--fail-rate', String(FLAKY_FAIL_RATE)] },
  { name: 'orders-v2', service: 'orders', version: 'v2', calls: ['inventory:8080'] },
  { name: 'frontend', service: 'frontend', calls: ['orders:8080'] },
  { name: 'loadgen', app: false },
];

export const SERVICES = ['frontend', 'orders', 'inventory'];

export const CANARY_WEIGHT = 10;

export const ROUTING: readonly MeshDocument[] = [
  {
    apiVersion: 'mesh.weft.dev/v1alpha1',
    kind: 'DestinationPolicy',
    metadata: { name: 'orders', namespace: 'default' },
    spec: {
      host: 'orders',
      trafficPolicy: { outlierDetection: { consecutive5xxErrors: 2, interval: '1s', baseEjectionTime: '5s', maxEjectionPercent: 50 } },
      subsets: [{ name: 'v1', labels: { version: 'v1' } }, { name: 'v2', labels: { version: 'v2' } }],
    },
  },
  {
    apiVersion: 'mesh.weft.dev/v1alpha1',
    kind: 'TrafficRoute',
    metadata: { name: 'orders', namespace: 'default' },
    spec: {
      hosts: ['orders'],
      http: [
        {
          name: 'canary',
          route: [
            { destination: { host: 'orders', subset: 'v1' }, weight: 100 - CANARY_WEIGHT },
            { destination: { host: 'orders', subset: 'v2' }, weight: CANARY_WEIGHT },
          ],
          retries: { attempts: 2, retryOn: '5xx' },
          timeout: '2s',
        },
      ],
    },
  },
];
