// Which MeshAuthentication mode governs one port of one workload. Precedence as in Istio's
// PeerAuthentication: a workload-selecting policy (its port-level mode first) over the
// namespace-wide one, over the mesh-wide one in the root namespace; PERMISSIVE when none.
import type { MeshAuthentication, MtlsMode } from '../resources/mesh-authentication.ts';
import type { Workload } from '../resources/workload.ts';
import type { MeshModel } from './mesh-model.ts';

export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function oldestFirst(a: MeshAuthentication, b: MeshAuthentication): number {
  // Deterministic choice when several policies tie: by name, as the API server has no order.
  return a.meta.name < b.meta.name ? -1 : a.meta.name > b.meta.name ? 1 : 0;
}

export function effectiveMtlsMode(model: MeshModel, workload: Workload, port: number): MtlsMode {
  const policies = [...model.meshAuthentications].sort(oldestFirst);
  const namespace = workload.meta.namespace;
  const forWorkload = policies.filter((p) => p.meta.namespace === namespace && p.selector !== undefined && selects(p.selector, workload.meta.labels));
  for (const policy of forWorkload) {
    const portMode = policy.portModes.get(port);
    if (portMode) return portMode;
  }
  const candidates = [
    ...forWorkload,
    ...policies.filter((p) => p.meta.namespace === namespace && p.selector === undefined),
    ...policies.filter((p) => p.meta.namespace === model.settings.rootNamespace && p.selector === undefined),
  ];
  return candidates.find((policy) => policy.mode !== undefined)?.mode ?? 'PERMISSIVE';
}
