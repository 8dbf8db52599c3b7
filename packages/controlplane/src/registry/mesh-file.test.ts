import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CANARY_MESH } from '../../test/fixtures.ts';
import { formatFileProblem, MeshFileReader, readMeshFile } from './mesh-file.ts';

function problemsOf(text: string): string[] {
  const result = readMeshFile(text, 'mesh.yaml');
  assert.equal(result.ok, false, 'expected the file to be refused');
  return result.ok ? [] : result.problems.map(formatFileProblem);
}

describe('readMeshFile', () => {
  it('builds one model from every kind of document', () => {
    const result = readMeshFile(CANARY_MESH, 'mesh.yaml');
    assert.ok(result.ok, result.ok ? '' : result.problems.map(formatFileProblem).join('\n'));
    const orders = result.model.services.get('orders.default.svc.cluster.local');
    assert.ok(orders);
    assert.deepEqual(orders.ports, [{ name: 'http', port: 8080, protocol: 'HTTP' }]);
    assert.deepEqual(orders.endpoints.map((e) => [e.workload, e.targetPorts.get(8080), e.proxyAddress]), [
      ['orders-v1.default', 18081, '127.0.0.1:17001'],
      ['orders-v2.default', 18082, '127.0.0.1:17002'],
    ]);
    const route = result.model.trafficRoutes.get('orders.default.svc.cluster.local');
    assert.equal(route?.rules[1]?.timeoutMs, 1500);
    assert.deepEqual(route?.rules[1]?.destinations.map((d) => [d.subset, d.weight]), [['v1', 90], ['v2', 10]]);
    assert.equal(result.documents, 5);
  });

  it('accepts an empty file as an empty mesh', () => {
    const result = readMeshFile('', 'mesh.yaml');
    assert.ok(result.ok);
    assert.equal(result.model.services.size, 0);
  });

  it('names file, line, document, object and field of a bad value', () => {
    const text = CANARY_MESH.replace('weight: 90', 'weight: 95');
    assert.deepEqual(problemsOf(text), ['mesh.yaml:53:5: document 5 (TrafficRoute default/orders): spec.http[1].route: weights must sum to 100, got 105']);
  });

  it('refuses a misspelt field, naming it', () => {
    const [problem] = problemsOf(CANARY_MESH.replace('timeout: 1.5s', 'timout: 1.5s'));
    assert.match(problem ?? '', /document 5 \(TrafficRoute default\/orders\): spec\.http\[1\]\.timout: unknown field/);
  });

  it('refuses a reference to a subset no DestinationPolicy defines', () => {
    const [problem] = problemsOf(CANARY_MESH.replace('subset: v2}\n  - route', 'subset: v3}\n  - route'));
    assert.match(problem ?? '', /:51:43: document 5 \(TrafficRoute default\/orders\): spec\.http\[0\]\.route\[0\]\.destination\.subset: subset "v3" is not defined/);
  });

  it('refuses unknown hosts, bad regexes and bad durations', () => {
    assert.match(problemsOf(CANARY_MESH.replace('hosts: [orders]', 'hosts: [payments]'))[0] ?? '', /spec\.hosts\[0\]: unknown host "payments"/);
    assert.match(problemsOf(CANARY_MESH.replace('uri: {prefix: /beta}', 'uri: {regex: "(unclosed"}'))[0] ?? '', /match\[1\]\.uri\.regex: invalid regular expression/);
    assert.match(problemsOf(CANARY_MESH.replace('timeout: 1.5s', 'timeout: soon'))[0] ?? '', /spec\.http\[1\]\.timeout: "soon" is not a duration/);
  });

  it('reports YAML syntax errors with their line', () => {
    const [problem] = problemsOf('apiVersion: mesh.weft.dev/v1alpha1\nkind: [Workload\n');
    assert.match(problem ?? '', /^mesh\.yaml:\d+:\d+: document 1: YAML: /);
  });

  it('refuses a document defined twice and an unknown kind', () => {
    const workload = CANARY_MESH.split('---')[0] as string;
    assert.match(problemsOf(`${workload}---${workload}`)[0] ?? '', /document 2 \(Workload default\/orders-v1\): metadata\.name: Workload default\/orders-v1 is already defined by document 1/);
    assert.match(problemsOf('apiVersion: mesh.weft.dev/v1alpha1\nkind: VirtualService\nmetadata: {name: x}\n')[0] ?? '', /kind: "VirtualService" is not one of Workload, TrafficRoute/);
  });
});

describe('MeshFileReader (re-reads of one file)', () => {
  const modelOf = (result: ReturnType<MeshFileReader['read']>) => {
    assert.ok(result.ok, result.ok ? '' : result.problems.map(formatFileProblem).join('\n'));
    return result.model;
  };

  it('gives the model readMeshFile gives, and parses only the documents that changed', () => {
    const reader = new MeshFileReader();
    assert.deepEqual(modelOf(reader.read(CANARY_MESH, 'mesh.yaml')), modelOf(readMeshFile(CANARY_MESH, 'mesh.yaml')));
    assert.equal(reader.parsedDocuments, 5);
    const edited = CANARY_MESH.replace('weight: 90', 'weight: 70').replace('weight: 10', 'weight: 30');
    const model = modelOf(reader.read(edited, 'mesh.yaml'));
    assert.equal(reader.parsedDocuments, 1, 'only the edited TrafficRoute');
    assert.deepEqual(model, modelOf(readMeshFile(edited, 'mesh.yaml')));
    assert.deepEqual(model.trafficRoutes.get('orders.default.svc.cluster.local')?.rules[1]?.destinations.map((d) => d.weight), [70, 30]);
  });

  it('reports problems exactly as readMeshFile does, with lines and columns', () => {
    const reader = new MeshFileReader();
    reader.read(CANARY_MESH, 'mesh.yaml');
    for (const broken of [CANARY_MESH.replace('weight: 90', 'weight: 140'), `${CANARY_MESH}\n---\nkind: [unclosed\n`, `${CANARY_MESH}\n---\n${CANARY_MESH.split('\n---\n')[0] ?? ''}\n`]) {
      const result = reader.read(broken, 'mesh.yaml');
      assert.equal(reader.parsedDocuments, -1, 'a file with problems takes the full path');
      assert.deepEqual(result, readMeshFile(broken, 'mesh.yaml'));
      assert.equal(result.ok, false);
    }
  });

  it('leaves to the full parser what a line split could misread: directives, content on a --- line', () => {
    const reader = new MeshFileReader();
    for (const text of [`%YAML 1.2\n---\n${CANARY_MESH}`, CANARY_MESH.replace('\n---\n', '\n--- # a comment is fine\n'), CANARY_MESH.replace(/\n---\n(\S)/, '\n--- $1')]) {
      const result = reader.read(text, 'mesh.yaml');
      assert.deepEqual(result, readMeshFile(text, 'mesh.yaml'));
    }
  });
});
