// The four CRDs: well-formed for the API server (structural schemas), conventional (status
// subresource, printer columns, short names), and their schemas accept what the control plane
// accepts. The last part is differential: each case is a variant of a sample custom resource,
// judged both by the CRD's schema (as the API server would) and by the control plane's own
// validation (readMeshFile, the file registry's path, which shares its parsers with the
// Kubernetes registry), and the pair of verdicts must be the one the case expects.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readMeshFile } from '@weft/controlplane';
import { stringify } from 'yaml';
import { CrdValidator, crdVersions, preserveUnknownFieldsPaths, structuralProblems, type Schema } from './crd-schema.ts';
import { loadAllManifests, type KubeObject } from './load.ts';

const ALL = loadAllManifests();
const CRDS = ALL.filter((doc) => doc.object.kind === 'CustomResourceDefinition').map((doc) => doc.object);
const validator = new CrdValidator(CRDS);

function sample(kind: string, name: string): KubeObject {
  const found = ALL.find((doc) => doc.object.kind === kind && doc.object.metadata.name === name && doc.file.startsWith('deploy/k8s/samples/'));
  assert.ok(found, `sample ${kind} ${name}`);
  return found.object;
}

const TRAFFIC_ROUTE = sample('TrafficRoute', 'orders');
const DESTINATION_POLICY = sample('DestinationPolicy', 'orders');
const MESH_AUTHENTICATION = sample('MeshAuthentication', 'default');
const ACCESS_POLICY = sample('AccessPolicy', 'inventory-readers');

function crd(kind: string): KubeObject {
  const found = CRDS.find((object) => (object.spec as { names: { kind: string } }).names.kind === kind);
  assert.ok(found, `CRD for ${kind}`);
  return found;
}

/** A copy of a schema without its descriptions, to compare structure. */
function withoutDescriptions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDescriptions);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'description').map(([key, item]) => [key, withoutDescriptions(item)]));
}

function schemaOf(kind: string): Schema {
  return (crdVersions(crd(kind))[0] as { schema: Schema }).schema;
}

/** `path` like "spec.http.0.route": numeric segments index lists. */
function at(root: unknown, path: string): Record<string, unknown> {
  let node = root;
  for (const segment of path.split('.')) node = (node as Record<string, unknown>)[segment];
  return node as Record<string, unknown>;
}

/** A copy of `base` with each [path, value] set (undefined: removed). */
function variant(base: KubeObject, changes: readonly (readonly [string, unknown])[]): KubeObject {
  const copy = structuredClone(base);
  for (const [path, value] of changes) {
    const segments = path.split('.');
    const last = segments.pop() as string;
    const parent = segments.length === 0 ? (copy as Record<string, unknown>) : at(copy, segments.join('.'));
    if (value === undefined) delete parent[last];
    else parent[last] = structuredClone(value);
  }
  return copy;
}

// The services of the samples, as file-registry workloads, so that hosts resolve.
const WORLD = ['frontend', 'orders-v1', 'orders-v2', 'inventory', 'client']
  .map((name, index) => {
    const [app, version] = name.split('-') as [string, string | undefined];
    const spec = app === 'client' ? { address: `10.0.0.${index + 1}`, serviceAccount: app } : { service: app, address: `10.0.0.${index + 1}`, ports: [{ name: 'http', port: 8080 }], serviceAccount: app };
    return stringify({ apiVersion: 'mesh.weft.dev/v1alpha1', kind: 'Workload', metadata: { name, namespace: 'demo', labels: { app, ...(version ? { version } : {}) } }, spec });
  })
  .join('---\n');

/** The control plane's verdict: [accepted, problems]. A TrafficRoute is judged with the sample DestinationPolicy beside it. */
function controlPlane(object: KubeObject): [boolean, string] {
  const context = object.kind === 'TrafficRoute' ? [WORLD, stringify(DESTINATION_POLICY)] : [WORLD];
  const result = readMeshFile([...context, stringify(object)].join('---\n'), 'case.yaml');
  return result.ok ? [true, ''] : [false, result.problems.map((problem) => `${problem.field ?? ''}: ${problem.problem}`).join('; ')];
}

/**
 * accept: both accept. reject: both refuse. controlPlane: the schema cannot express the rule,
 * so the API server stores the object and the control plane refuses it with
 * status Accepted=False. crd: the schema is deliberately stricter than the control plane
 * (see the comments at those cases).
 */
type Expect = 'accept' | 'reject' | 'controlPlane' | 'crd';
interface Case {
  readonly name: string;
  readonly object: KubeObject;
  readonly expect: Expect;
}

const FULL_ROUTE = {
  hosts: ['orders'],
  http: [
    {
      name: 'beta',
      match: [{ headers: { 'x-beta': { exact: '1' }, 'x-canary': { present: true }, 'x-legacy': { absent: true } } }, { uri: { prefix: '/beta' }, method: { exact: 'POST' }, queryParams: { version: { regex: '^2(\\.[0-9]+)?$' } } }],
      route: [{ destination: { host: 'orders', subset: 'v2', port: { number: 8080 } } }],
    },
    {
      route: [
        { destination: { host: 'orders.demo', subset: 'v1' }, weight: 90 },
        { destination: { host: 'orders.demo.svc.cluster.local', subset: 'v2' }, weight: 10 },
      ],
      timeout: '1.5s',
      retries: { attempts: 3, perTryTimeout: '500ms', retryOn: ' 5xx , connect-failure,503', backoff: { baseInterval: '25ms', maxInterval: '250ms' } },
      fault: { delay: { fixedDelay: '100ms', percentage: { value: 5 } }, abort: { httpStatus: 503, percentage: { value: 0.5 } } },
      mirror: { host: 'frontend' },
      mirrorPercentage: { value: 10 },
      headers: { request: { set: { 'x-route': 'default', 'x-empty': '' }, add: { 'x-trace-tag': 'orders' }, remove: ['x-debug'] }, response: { remove: ['server'] } },
    },
  ],
};

const FULL_POLICY = {
  host: 'orders',
  trafficPolicy: {
    loadBalancer: { consistentHash: { httpCookie: { name: 'session' }, minimumRingSize: 4096 } },
    connectionPool: { tcp: { maxConnections: 1, connectTimeout: '2s' }, http: { http1MaxPendingRequests: 1, http2MaxRequests: 1000, maxRequestsPerConnection: 0, maxRetries: 10, idleTimeout: '30s' } },
    outlierDetection: { consecutive5xxErrors: 0, consecutiveGatewayErrors: 2, interval: '1s', baseEjectionTime: '15s', maxEjectionPercent: 100, minHealthPercent: 30 },
    retryBudget: { percent: 12.5, minRetryConcurrency: 1 },
  },
  subsets: [
    { name: 'v1', labels: { version: 'v1' }, trafficPolicy: { loadBalancer: { simple: 'RANDOM' } } },
    { name: 'v2', labels: { version: 'v2', app: 'orders' }, trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: 'x-user' } }, retryBudget: { percent: 100 } } },
  ],
};

const tr = (name: string, expect: Expect, ...changes: (readonly [string, unknown])[]): Case => ({ name: `TrafficRoute: ${name}`, object: variant(TRAFFIC_ROUTE, changes), expect });
const dp = (name: string, expect: Expect, ...changes: (readonly [string, unknown])[]): Case => ({ name: `DestinationPolicy: ${name}`, object: variant(DESTINATION_POLICY, changes), expect });
const ma = (name: string, expect: Expect, ...changes: (readonly [string, unknown])[]): Case => ({ name: `MeshAuthentication: ${name}`, object: variant(MESH_AUTHENTICATION, changes), expect });
const ap = (name: string, expect: Expect, ...changes: (readonly [string, unknown])[]): Case => ({ name: `AccessPolicy: ${name}`, object: variant(ACCESS_POLICY, changes), expect });
const route0 = 'spec.http.0';
const twoWay = [{ destination: { host: 'orders', subset: 'v1' }, weight: 90 }, { destination: { host: 'orders', subset: 'v2' } }];

const CASES: readonly Case[] = [
  // TrafficRoute
  tr('the sample', 'accept'),
  tr('every field, as docs/configuration.md shows them', 'accept', ['spec', FULL_ROUTE]),
  tr('a single destination without weight, no match, empty match list', 'accept', [`${route0}.route`, [{ destination: { host: 'orders' } }]], [`${route0}.match`, []]),
  tr('Istio-style backoff: one duration', 'accept', [`${route0}.retries.backoff`, '50ms']),
  tr('a null field (pruned by the API server, absent for the control plane)', 'accept', [`${route0}.timeout`, null]),
  tr('a misspelt field (weigth)', 'reject', [`${route0}.route.0.weigth`, 90]),
  tr('a weight above 100', 'reject', [`${route0}.route.0.weight`, 140], [`${route0}.route.1.weight`, 0]),
  tr('a negative weight', 'reject', [`${route0}.route.0.weight`, -10], [`${route0}.route.1.weight`, 110]),
  tr('a fractional weight', 'reject', [`${route0}.route.0.weight`, 89.5], [`${route0}.route.1.weight`, 10.5]),
  tr('several destinations, one without weight', 'reject', [`${route0}.route`, twoWay]),
  tr("an Istio field Weft does not support (spec.gateways)", 'reject', ['spec.gateways', ['mesh']]),
  tr('an Istio rule field Weft does not support (rewrite)', 'reject', [`${route0}.rewrite`, { uri: '/' }]),
  tr('no hosts', 'reject', ['spec.hosts', []]),
  tr('no http rules', 'reject', ['spec.http', undefined]),
  tr('a rule without route', 'reject', [`${route0}.route`, undefined]),
  tr('a destination without host', 'reject', [`${route0}.route.0.destination`, { subset: 'v1' }]),
  tr('a subset that is not a DNS label', 'reject', [`${route0}.route.0.destination.subset`, 'V1']),
  tr('port 0', 'reject', [`${route0}.route.0.destination.port`, { number: 0 }]),
  tr('port 70000', 'reject', [`${route0}.route.0.destination.port`, { number: 70000 }]),
  tr('a port without number', 'reject', [`${route0}.route.0.destination.port`, {}]),
  tr('a uri match with two kinds', 'reject', [`${route0}.match`, [{ uri: { exact: '/a', prefix: '/b' } }]]),
  tr('an empty uri match', 'reject', [`${route0}.match`, [{ uri: {} }]]),
  tr('an empty exact string', 'reject', [`${route0}.match`, [{ method: { exact: '' } }]]),
  tr('a header match present: false', 'reject', [`${route0}.match`, [{ headers: { 'x-a': { present: false } } }]]),
  tr('a header match with present and absent', 'reject', [`${route0}.match`, [{ headers: { 'x-a': { present: true, absent: true } } }]]),
  tr('an unknown match condition (sourceLabels)', 'reject', [`${route0}.match`, [{ sourceLabels: { app: 'x' } }]]),
  tr('retries without attempts', 'reject', [`${route0}.retries.attempts`, undefined]),
  tr('101 attempts', 'reject', [`${route0}.retries.attempts`, 101]),
  tr('an unknown retryOn condition', 'reject', [`${route0}.retries.retryOn`, '5xx,bogus']),
  tr('an empty retryOn item', 'reject', [`${route0}.retries.retryOn`, '5xx,,503']),
  tr('a status code out of range in retryOn', 'reject', [`${route0}.retries.retryOn`, '5xx,600']),
  tr('a timeout without unit', 'reject', [`${route0}.timeout`, '2']),
  tr('a timeout in days', 'reject', [`${route0}.timeout`, '1d']),
  tr('a negative timeout', 'reject', [`${route0}.timeout`, '-1s']),
  tr('a backoff interval that is not a duration', 'reject', [`${route0}.retries.backoff`, { baseInterval: 'soon' }]),
  tr('an empty fault', 'reject', [`${route0}.fault`, {}]),
  tr('an abort with both statuses', 'reject', [`${route0}.fault`, { abort: { httpStatus: 503, grpcStatus: 'UNAVAILABLE' } }]),
  tr('an abort status below 200', 'reject', [`${route0}.fault`, { abort: { httpStatus: 199 } }]),
  tr('an unknown gRPC status', 'reject', [`${route0}.fault`, { abort: { grpcStatus: 'NOPE' } }]),
  tr('a delay without fixedDelay', 'reject', [`${route0}.fault`, { delay: { percentage: { value: 1 } } }]),
  tr('a percentage above 100', 'reject', [`${route0}.fault`, { delay: { fixedDelay: '1s', percentage: { value: 100.5 } } }]),
  tr("Istio's deprecated integer percent", 'reject', [`${route0}.fault`, { delay: { fixedDelay: '1s', percent: 5 } }]),
  tr('mirrorPercentage without mirror', 'reject', [`${route0}.mirrorPercentage`, { value: 5 }]),
  tr('removing the host header', 'reject', [`${route0}.headers`, { request: { remove: ['host'] } }]),
  tr('removing a weft- header', 'reject', [`${route0}.headers`, { request: { remove: ['weft-target-port'] } }]),
  tr('removing an upper-case header name', 'reject', [`${route0}.headers`, { response: { remove: ['Server'] } }]),
  tr('a header value with a line break', 'reject', [`${route0}.headers`, { request: { set: { 'x-a': 'one\ntwo' } } }]),
  tr('a header value that is a number', 'reject', [`${route0}.headers`, { request: { set: { 'x-a': 2 } } }]),
  tr('a name that is not a DNS label', 'reject', ['metadata.name', 'orders.v1']),
  // What only the control plane can judge: reported as Accepted=False.
  tr('weights summing to 90', 'controlPlane', [`${route0}.route.0.weight`, 80]),
  tr('a regex that does not compile', 'controlPlane', [`${route0}.match`, [{ uri: { regex: '(' } }]]),
  tr('a subset no DestinationPolicy defines', 'controlPlane', [`${route0}.route.0.destination.subset`, 'v3']),
  tr('an unknown host', 'controlPlane', ['spec.hosts', ['payments']]),
  tr('retriable-status-codes without a status code', 'controlPlane', [`${route0}.retries.retryOn`, 'retriable-status-codes']),
  tr('a timeout under 1ms', 'controlPlane', [`${route0}.timeout`, '0.1ms']),
  tr('a timeout over 2147483647ms', 'controlPlane', [`${route0}.timeout`, '600h']),
  tr('an upper-case header name to match (a map key)', 'controlPlane', [`${route0}.match`, [{ headers: { 'X-Beta': { exact: '1' } } }]]),
  tr('setting the host header (a map key)', 'controlPlane', [`${route0}.headers`, { request: { set: { host: 'x' } } }]),
  tr('a backoff maxInterval below baseInterval', 'controlPlane', [`${route0}.retries.backoff`, { baseInterval: '100ms', maxInterval: '10ms' }]),
  tr('a misspelt backoff field (the one untyped union: duration or object)', 'controlPlane', [`${route0}.retries.backoff`, { basInterval: '100ms' }]),
  tr('a backoff that is a number (same union)', 'controlPlane', [`${route0}.retries.backoff`, 5]),
  tr('a header match with present and a value', 'reject', [`${route0}.match`, [{ headers: { 'x-a': { present: true, exact: '1' } } }]]),
  // Enums are written as documented (upper case); the control plane also takes other cases.
  tr('a lower-case gRPC status', 'crd', [`${route0}.fault`, { abort: { grpcStatus: 'unavailable' } }]),

  // DestinationPolicy
  dp('the sample', 'accept'),
  dp('every field, as docs/configuration.md shows them', 'accept', ['spec', FULL_POLICY]),
  dp('no subsets, no trafficPolicy', 'accept', ['spec', { host: 'inventory' }]),
  dp('useSourceIp', 'accept', ['spec.trafficPolicy.loadBalancer', { consistentHash: { useSourceIp: true } }]),
  dp('simple and consistentHash together', 'reject', ['spec.trafficPolicy.loadBalancer', { simple: 'RANDOM', consistentHash: { useSourceIp: true } }]),
  dp('an Istio load balancer Weft does not implement (LEAST_CONN)', 'reject', ['spec.trafficPolicy.loadBalancer', { simple: 'LEAST_CONN' }]),
  dp('two hash keys', 'reject', ['spec.trafficPolicy.loadBalancer', { consistentHash: { useSourceIp: true, httpHeaderName: 'x-user' } }]),
  dp('no hash key', 'reject', ['spec.trafficPolicy.loadBalancer', { consistentHash: { minimumRingSize: 1024 } }]),
  dp('a cookie with ttl', 'reject', ['spec.trafficPolicy.loadBalancer', { consistentHash: { httpCookie: { name: 's', ttl: '10s' } } }]),
  dp('useSourceIp: false', 'reject', ['spec.trafficPolicy.loadBalancer', { consistentHash: { useSourceIp: false } }]),
  dp('a ring of 0', 'reject', ['spec.trafficPolicy.loadBalancer', { consistentHash: { useSourceIp: true, minimumRingSize: 0 } }]),
  dp('an upper-case hash header', 'reject', ['spec.trafficPolicy.loadBalancer', { consistentHash: { httpHeaderName: 'X-User' } }]),
  dp('maxConnections 0', 'reject', ['spec.trafficPolicy.connectionPool.tcp.maxConnections', 0]),
  dp('maxRequestsPerConnection -1', 'reject', ['spec.trafficPolicy.connectionPool.http', { maxRequestsPerConnection: -1 }]),
  dp('tcpKeepalive (not supported)', 'reject', ['spec.trafficPolicy.connectionPool.tcp.tcpKeepalive', { time: '1s' }]),
  dp('maxEjectionPercent 0', 'reject', ['spec.trafficPolicy.outlierDetection.maxEjectionPercent', 0]),
  dp('minHealthPercent 101', 'reject', ['spec.trafficPolicy.outlierDetection.minHealthPercent', 101]),
  dp("Istio's deprecated consecutiveErrors", 'reject', ['spec.trafficPolicy.outlierDetection.consecutiveErrors', 5]),
  dp('a retry budget of 0 percent', 'reject', ['spec.trafficPolicy.retryBudget', { percent: 0 }]),
  dp('minRetryConcurrency 0', 'reject', ['spec.trafficPolicy.retryBudget', { minRetryConcurrency: 0 }]),
  dp('tls (not supported)', 'reject', ['spec.trafficPolicy.tls', { mode: 'ISTIO_MUTUAL' }]),
  dp('a subset without labels', 'reject', ['spec.subsets.0.labels', undefined]),
  dp('a subset with empty labels', 'reject', ['spec.subsets.0.labels', {}]),
  dp('a label value that is a number', 'reject', ['spec.subsets.0.labels', { version: 1 }]),
  dp('a subset name that is not a DNS label', 'reject', ['spec.subsets.0.name', 'V1']),
  dp('a subset defined twice', 'reject', ['spec.subsets.1.name', 'v1']),
  dp('no host', 'reject', ['spec.host', undefined]),
  dp('a misspelt subset field (lables)', 'reject', ['spec.subsets.0.lables', { version: 'v1' }]),
  dp('an unknown host', 'controlPlane', ['spec.host', 'payments']),
  dp('an interval under 1ms', 'controlPlane', ['spec.trafficPolicy.outlierDetection.interval', '0ms']),
  dp('a lower-case load balancer', 'crd', ['spec.trafficPolicy.loadBalancer', { simple: 'round_robin' }]),

  // MeshAuthentication
  ma('the sample', 'accept'),
  ma('per workload, with port-level modes', 'accept', ['metadata.namespace', 'demo'], ['spec', { selector: { matchLabels: { app: 'orders' } }, mtls: { mode: 'PERMISSIVE' }, portLevelMtls: { '8080': { mode: 'STRICT' } } }]),
  ma('an empty spec', 'accept', ['spec', {}]),
  ma('an empty portLevelMtls without selector', 'accept', ['spec.portLevelMtls', {}]),
  ma('an unknown mode', 'reject', ['spec.mtls.mode', 'STRIKT']),
  ma('mtls without mode', 'reject', ['spec.mtls', {}]),
  ma('port-level modes without a selector', 'reject', ['spec.portLevelMtls', { '8080': { mode: 'DISABLE' } }]),
  ma('an Istio selector field (matchExpressions)', 'reject', ['spec.selector', { matchExpressions: [] }]),
  ma('a port-level key that is not a port', 'controlPlane', ['spec.selector', { matchLabels: { app: 'orders' } }], ['spec.portLevelMtls', { http: { mode: 'STRICT' } }]),
  ma('a lower-case mode', 'crd', ['spec.mtls.mode', 'strict']),

  // AccessPolicy
  ap('the sample', 'accept'),
  ap('DENY with paths and ports', 'accept', ['spec.action', 'DENY'], ['spec.rules', [{ from: [{ source: { namespaces: ['legacy'] } }], to: [{ operation: { paths: ['/admin/*'], ports: [8080] } }] }]]),
  ap('no rules', 'accept', ['spec.rules', []]),
  ap('an empty spec', 'accept', ['spec', {}]),
  ap('an unknown action', 'reject', ['spec.action', 'AUDIT']),
  ap('port 0', 'reject', ['spec.rules.0.to.0.operation.ports', [0]]),
  ap('a source without source', 'reject', ['spec.rules.0.from', [{}]]),
  ap('an Istio operation field Weft does not support (hosts)', 'reject', ['spec.rules.0.to.0.operation.hosts', ['orders']]),
  ap('an empty principal', 'reject', ['spec.rules.0.from.0.source.principals', ['']]),
  ap('a lower-case action', 'crd', ['spec.action', 'deny']),
];

describe('CRDs', () => {
  it('there are four, one per Weft kind, in mesh.weft.dev/v1alpha1, namespaced, with a status subresource', () => {
    assert.deepEqual(CRDS.map((object) => (object.spec as { names: { kind: string } }).names.kind).sort(), ['AccessPolicy', 'DestinationPolicy', 'MeshAuthentication', 'TrafficRoute']);
    for (const object of CRDS) {
      const spec = object.spec as { group: string; scope: string; names: { plural: string; shortNames: string[]; categories: string[] }; versions: Record<string, unknown>[] };
      assert.equal(object.metadata.name, `${spec.names.plural}.mesh.weft.dev`);
      assert.equal(spec.group, 'mesh.weft.dev');
      assert.equal(spec.scope, 'Namespaced');
      assert.equal(spec.names.shortNames.length, 1);
      assert.deepEqual(spec.names.categories, ['weft']);
      assert.equal(spec.versions.length, 1);
      const version = spec.versions[0] as { name: string; served: boolean; storage: boolean; subresources: unknown; additionalPrinterColumns: { name: string; jsonPath: string }[] };
      assert.equal(version.name, 'v1alpha1');
      assert.ok(version.served && version.storage);
      assert.deepEqual(version.subresources, { status: {} });
      const columns = Object.fromEntries(version.additionalPrinterColumns.map((column) => [column.name, column.jsonPath]));
      assert.equal(columns.Accepted, '.status.conditions[?(@.type=="Accepted")].status');
      assert.equal(columns.Age, '.metadata.creationTimestamp');
    }
    assert.deepEqual(CRDS.map((object) => (object.spec as { names: { shortNames: string[] } }).names.shortNames[0]).sort(), ['ap', 'dp', 'ma', 'tr']);
  });

  for (const object of CRDS) {
    it(`${object.metadata.name} has a structural schema the API server accepts`, () => {
      for (const version of crdVersions(object)) assert.deepEqual(structuralProblems(version.schema), []);
    });
  }

  it('no schema preserves unknown fields, except the one duration-or-object union', () => {
    const paths = CRDS.flatMap((object) => crdVersions(object).flatMap((version) => preserveUnknownFieldsPaths(version.schema).map((path) => `${version.kind}: ${path}`)));
    assert.deepEqual(paths, ['TrafficRoute: spec.http[].retries.backoff']);
  });

  it('all four share one status schema: observedGeneration and conditions (a list map by type)', () => {
    const statuses = ['TrafficRoute', 'DestinationPolicy', 'MeshAuthentication', 'AccessPolicy'].map((kind) => {
      const status = structuredClone((schemaOf(kind).properties as Record<string, Schema>).status as Schema);
      const conditions = (status.properties as Record<string, Schema>).conditions as Schema;
      delete conditions.description; // names the kind
      return status;
    });
    for (const status of statuses.slice(1)) assert.deepEqual(status, statuses[0]);
    const item = ((statuses[0]?.properties as Record<string, Schema>).conditions as Schema).items as Schema;
    assert.deepEqual(Object.keys(item.properties as object).sort(), ['lastTransitionTime', 'message', 'observedGeneration', 'reason', 'status', 'type']);
  });

  it("a subset's trafficPolicy has exactly the service's trafficPolicy schema", () => {
    const spec = (schemaOf('DestinationPolicy').properties as Record<string, Schema>).spec as Schema;
    const service = structuredClone((spec.properties as Record<string, Schema>).trafficPolicy as Schema);
    const subsets = (spec.properties as Record<string, Schema>).subsets as Schema;
    const subset = structuredClone(((subsets.items as Schema).properties as Record<string, Schema>).trafficPolicy as Schema);
    delete service.description;
    delete subset.description;
    assert.deepEqual(subset, service);
  });

  it('TrafficRoute: the string matches, destinations and percentages are the same schema wherever they appear', () => {
    const rule = ((((schemaOf('TrafficRoute').properties as Record<string, Schema>).spec as Schema).properties as Record<string, Schema>).http as Schema).items as Schema;
    const props = rule.properties as Record<string, Schema>;
    const match = ((props.match as Schema).items as Schema).properties as Record<string, Schema>;
    const strip = (schema: Schema | undefined): Schema => withoutDescriptions(schema ?? {}) as Schema;
    assert.deepEqual(strip(match.method), strip(match.uri));
    assert.deepEqual(strip((match.queryParams as Schema).additionalProperties as Schema), strip(match.uri));
    assert.deepEqual(strip(props.mirror), strip((((props.route as Schema).items as Schema).properties as Record<string, Schema>).destination));
    const fault = (props.fault as Schema).properties as Record<string, Schema>;
    const percentages = [props.mirrorPercentage, ((fault.delay as Schema).properties as Record<string, Schema>).percentage, ((fault.abort as Schema).properties as Record<string, Schema>).percentage].map(strip);
    for (const percentage of percentages) assert.deepEqual(percentage, percentages[0]);
    const headers = (props.headers as Schema).properties as Record<string, Schema>;
    assert.deepEqual(strip(headers.request), strip(headers.response));
  });
});

describe('sample custom resources', () => {
  const samples = ALL.filter((doc) => doc.object.apiVersion === 'mesh.weft.dev/v1alpha1');

  it('there is one of each kind at least', () => {
    assert.deepEqual([...new Set(samples.map((doc) => doc.object.kind))].sort(), ['AccessPolicy', 'DestinationPolicy', 'MeshAuthentication', 'TrafficRoute']);
  });

  for (const doc of samples) {
    it(`${doc.file}: ${doc.object.kind} ${doc.object.metadata.name} validates against its CRD`, () => {
      assert.deepEqual(validator.validate(doc.object), []);
    });
  }

  it('the samples are what the brief promises: subsets with outlier detection, a 90/10 canary with retries, mesh-wide STRICT', () => {
    const policy = DESTINATION_POLICY.spec as { subsets: { name: string }[]; trafficPolicy: { outlierDetection?: unknown } };
    assert.deepEqual(policy.subsets.map((subset) => subset.name), ['v1', 'v2']);
    assert.ok(policy.trafficPolicy.outlierDetection);
    const rule = (TRAFFIC_ROUTE.spec as { http: { route: { weight: number }[]; retries?: unknown }[] }).http[0];
    assert.deepEqual(rule?.route.map((destination) => destination.weight), [90, 10]);
    assert.ok(rule?.retries);
    assert.equal(MESH_AUTHENTICATION.metadata.namespace, 'weft-system');
    assert.deepEqual(MESH_AUTHENTICATION.spec, { mtls: { mode: 'STRICT' } });
  });

  it('the kind suite uses an invalid route the API server accepts and the control plane refuses', () => {
    const broken = ALL.find((doc) => doc.file === 'e2e/kind/manifests/invalid-trafficroute.yaml');
    assert.ok(broken);
    assert.deepEqual(validator.validate(broken.object), []);
    const [accepted, problems] = controlPlane(broken.object);
    assert.equal(accepted, false);
    assert.match(problems, /v9/);
  });
});

describe('negative: the API server refuses', () => {
  it('a misspelt field, naming it', () => {
    const problems = validator.validate(variant(TRAFFIC_ROUTE, [[`${route0}.route.0.weigth`, 90]]));
    assert.ok(problems.some((problem) => problem.includes('spec.http.0.route.0') && problem.includes('"weigth"')), problems.join('\n'));
  });

  it('a weight out of range, naming it', () => {
    const problems = validator.validate(variant(TRAFFIC_ROUTE, [[`${route0}.route.0.weight`, 140]]));
    assert.ok(problems.some((problem) => problem.startsWith('spec.http.0.route.0.weight: must be <= 100')), problems.join('\n'));
  });

  it('an unknown top-level field, and a missing spec', () => {
    assert.notDeepEqual(validator.validate(variant(TRAFFIC_ROUTE, [['extra', 1]])), []);
    assert.notDeepEqual(validator.validate(variant(TRAFFIC_ROUTE, [['spec', undefined]])), []);
  });
});

describe('status', () => {
  const status = {
    observedGeneration: 3,
    conditions: [{ type: 'Accepted', status: 'False', reason: 'Invalid', message: 'spec.http[0].route: weights must sum to 100, got 90', lastTransitionTime: '2026-01-02T03:04:05Z', observedGeneration: 3 }],
  };

  it('what the control plane writes validates', () => {
    assert.deepEqual(validator.validate(variant(TRAFFIC_ROUTE, [['status', status]])), []);
    assert.deepEqual(validator.validate(variant(ACCESS_POLICY, [['status', { conditions: [{ type: 'Accepted', status: 'True' }] }]])), []);
  });

  for (const [name, change] of [
    ['an unknown status field', ['status.phase', 'Ready']],
    ['an unknown condition field', ['status.conditions.0.severity', 'Error']],
    ['a condition status other than True, False, Unknown', ['status.conditions.0.status', 'Maybe']],
    ['a condition without status', ['status.conditions.0.status', undefined]],
    ['a reason that is not CamelCase', ['status.conditions.0.reason', 'not valid']],
    ['a lastTransitionTime that is not a time', ['status.conditions.0.lastTransitionTime', 'yesterday']],
    ['two conditions of one type', ['status.conditions.1', { type: 'Accepted', status: 'True' }]],
    ['a negative observedGeneration', ['status.observedGeneration', -1]],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.notDeepEqual(validator.validate(variant(variant(TRAFFIC_ROUTE, [['status', status]]), [change])), []);
    });
  }
});

describe('CRD schemas against the control plane', () => {
  for (const testCase of CASES) {
    it(`${testCase.name}: ${testCase.expect}`, () => {
      const crdProblems = validator.validate(testCase.object);
      const [cpAccepts, cpProblems] = controlPlane(testCase.object);
      const verdict = `CRD ${crdProblems.length === 0 ? 'accepts' : `refuses (${crdProblems.join('; ')})`}; control plane ${cpAccepts ? 'accepts' : `refuses (${cpProblems})`}`;
      const expected = { accept: [true, true], reject: [false, false], controlPlane: [true, false], crd: [false, true] }[testCase.expect];
      assert.deepEqual([crdProblems.length === 0, cpAccepts], expected, verdict);
    });
  }

  it('the CRD never refuses what the control plane accepts, except the documented stricter cases', () => {
    assert.deepEqual(
      CASES.filter((testCase) => testCase.expect === 'crd').map((testCase) => testCase.name),
      ['TrafficRoute: a lower-case gRPC status', 'DestinationPolicy: a lower-case load balancer', 'MeshAuthentication: a lower-case mode', 'AccessPolicy: a lower-case action'],
    );
  });
});

describe('the structural-schema checker', () => {
  for (const [name, schema] of [
    ['properties with additionalProperties', { type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } } }],
    ['a field without type', { type: 'object', properties: { spec: { properties: {} } } }],
    ['type inside anyOf', { type: 'object', properties: { spec: { type: 'object', anyOf: [{ type: 'object' }] } } }],
    ['description inside oneOf', { type: 'object', properties: { spec: { type: 'string', oneOf: [{ description: 'x' }] } } }],
    ['a junctor naming a field the schema lacks', { type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'string' } }, anyOf: [{ required: ['a'] }, { properties: { b: { minLength: 1 } } }] } } }],
    ['an array without items', { type: 'object', properties: { spec: { type: 'array' } } }],
    ['$ref', { type: 'object', properties: { spec: { $ref: '#/x' } } }],
    ['a lookahead pattern (not RE2)', { type: 'object', properties: { spec: { type: 'string', pattern: '^(?!weft-)' } } }],
    ['a list map whose key is optional', { type: 'object', properties: { spec: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { name: { type: 'string' } } } } } }],
    ['metadata restricting more than the name', { type: 'object', properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } }],
  ] as const) {
    it(`flags ${name}`, () => {
      assert.notDeepEqual(structuralProblems(schema), []);
    });
  }
});
