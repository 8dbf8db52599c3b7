import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readMeshFile } from '../registry/mesh-file.ts';
import { effectiveMtlsMode } from './mtls-mode.ts';

const WORKLOAD = `
apiVersion: mesh.weft.dev/v1alpha1
kind: Workload
metadata: {name: orders-1, namespace: shop, labels: {app: orders}}
spec: {service: orders, address: 10.0.0.1, ports: [{port: 8080}, {port: 9090}]}
`;

function policy(namespace: string, name: string, spec: string): string {
  return `---\napiVersion: mesh.weft.dev/v1alpha1\nkind: MeshAuthentication\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec: ${spec}\n`;
}

function modes(...policies: string[]): [string, string] {
  const result = readMeshFile(WORKLOAD + policies.join(''), 'mesh.yaml');
  assert.ok(result.ok, result.ok ? '' : JSON.stringify(result.problems));
  const workload = result.model.workloads.get('orders-1.shop');
  assert.ok(workload);
  return [effectiveMtlsMode(result.model, workload, 8080), effectiveMtlsMode(result.model, workload, 9090)];
}

describe('effectiveMtlsMode', () => {
  it('is PERMISSIVE without any policy', () => {
    assert.deepEqual(modes(), ['PERMISSIVE', 'PERMISSIVE']);
  });

  it('takes the most specific: port level > workload > namespace > mesh-wide', () => {
    const mesh = policy('weft-system', 'mesh', '{mtls: {mode: STRICT}}');
    const namespace = policy('shop', 'ns', '{mtls: {mode: PERMISSIVE}}');
    const workload = policy('shop', 'orders', '{selector: {matchLabels: {app: orders}}, mtls: {mode: DISABLE}}');
    const port = policy('shop', 'orders-port', '{selector: {matchLabels: {app: orders}}, portLevelMtls: {"9090": {mode: STRICT}}}');
    assert.deepEqual(modes(mesh), ['STRICT', 'STRICT']);
    assert.deepEqual(modes(mesh, namespace), ['PERMISSIVE', 'PERMISSIVE']);
    assert.deepEqual(modes(mesh, namespace, workload), ['DISABLE', 'DISABLE']);
    assert.deepEqual(modes(mesh, namespace, workload, port), ['DISABLE', 'STRICT']);
  });

  it('ignores policies of other namespaces and non-matching selectors', () => {
    assert.deepEqual(modes(policy('other', 'ns', '{mtls: {mode: STRICT}}'), policy('shop', 'x', '{selector: {matchLabels: {app: payments}}, mtls: {mode: STRICT}}')), ['PERMISSIVE', 'PERMISSIVE']);
  });
});
