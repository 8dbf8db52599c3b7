// Weft's custom resources as mesh documents, each with a verdict. A resource is validated on
// its own first (the same parsers the file registry uses), then cross-referenced with the rest
// of the mesh; a resource that fails either is left out — with a message naming the field —
// and the rest of the mesh goes on. An update that fails keeps the last accepted generation of
// that resource in force, so a typo never takes away routing that worked.
import { buildMeshModel, type ModelProblem, type ModelSettings } from '../../model/build-mesh-model.ts';
import type { DeclaredService, MeshDocuments, MeshModel } from '../../model/mesh-model.ts';
import { DocumentCollector, type DocumentKindName } from '../../resources/document-kinds.ts';
import { WEFT_API_VERSION } from '../../resources/object-meta.ts';
import type { Workload } from '../../resources/workload.ts';
import { Field, FieldError, formatPath, quote } from '../field.ts';

export type CustomResourceKind = Exclude<DocumentKindName, 'Workload'>;

export const CUSTOM_RESOURCE_PLURALS: Readonly<Record<CustomResourceKind, string>> = {
  TrafficRoute: 'trafficroutes',
  DestinationPolicy: 'destinationpolicies',
  MeshAuthentication: 'meshauthentications',
  AccessPolicy: 'accesspolicies',
};

export const CUSTOM_RESOURCE_KINDS = Object.keys(CUSTOM_RESOURCE_PLURALS) as CustomResourceKind[];

/** A custom resource as the watch delivers it (only what Weft reads). */
export interface CustomResourceObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly generation?: number; readonly uid?: string };
  readonly spec?: unknown;
  readonly status?: unknown;
}

export interface Verdict {
  readonly accepted: boolean;
  /** Machine-readable, for status.conditions[].reason. */
  readonly reason: 'Accepted' | 'Invalid';
  readonly message: string;
  readonly generation: number | undefined;
}

/** "Kind namespace/name" */
export function resourceKey(kind: string, namespace: string, name: string): string {
  return `${kind} ${namespace}/${name}`;
}

/** One version of a resource that passed validation on its own. */
export interface AcceptedResource {
  readonly kind: CustomResourceKind;
  readonly generation: number | undefined;
  readonly uid: string | undefined;
  /** The validated resource, as a document for DocumentCollector. */
  readonly document: Field;
}

export interface CustomResourceInput {
  readonly kind: CustomResourceKind;
  readonly object: CustomResourceObject;
}

export interface MeshAssembly {
  /** Undefined only when even the registry's own objects do not make a mesh. */
  readonly model: MeshModel | undefined;
  readonly verdicts: ReadonlyMap<string, Verdict>;
  /** Workloads left out of the model, with why. */
  readonly droppedWorkloads: readonly string[];
}

/** Only the fields the parsers know: Kubernetes adds uid, managedFields, status and more. */
function asDocument(kind: CustomResourceKind, object: CustomResourceObject): Field {
  const { name, namespace, labels } = object.metadata ?? {};
  return new Field({ apiVersion: object.apiVersion, kind, metadata: { name, namespace, labels }, spec: object.spec ?? {} });
}

function validate(kind: CustomResourceKind, object: CustomResourceObject): { resource: AcceptedResource } | { problem: string } {
  const document = asDocument(kind, object);
  try {
    if (object.apiVersion !== WEFT_API_VERSION) document.get('apiVersion').fail(`expected ${WEFT_API_VERSION}, got ${quote(String(object.apiVersion ?? ''))}`);
    new DocumentCollector().add(kind, document);
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    return { problem: error.message };
  }
  return { resource: { kind, generation: object.metadata?.generation, uid: object.metadata?.uid, document } };
}

interface Judged {
  /** The version in the mesh: the current one, else the last accepted one, else none. */
  inForce: AcceptedResource | undefined;
  readonly current: AcceptedResource | undefined;
  readonly generation: number | undefined;
  /** Why the current version is not in force. */
  problem: string | undefined;
}

/**
 * Assembles the mesh from the registry's services and workloads and the custom resources, and
 * judges each resource. `accepted` holds the last accepted version of each resource by key,
 * and is updated in place.
 */
export function assembleMesh(
  base: { readonly declaredServices: readonly DeclaredService[]; readonly workloads: readonly Workload[] },
  resources: readonly CustomResourceInput[],
  accepted: Map<string, AcceptedResource>,
  settings: ModelSettings | undefined,
): MeshAssembly {
  const judged = new Map<string, Judged>();
  for (const { kind, object } of resources) {
    const key = resourceKey(kind, object.metadata?.namespace ?? '', object.metadata?.name ?? '');
    const result = validate(kind, object);
    const previous = accepted.get(key);
    const fallback = previous !== undefined && previous.uid === object.metadata?.uid ? previous : undefined;
    judged.set(
      key,
      'resource' in result
        ? { inForce: result.resource, current: result.resource, generation: object.metadata?.generation, problem: undefined }
        : { inForce: fallback, current: undefined, generation: object.metadata?.generation, problem: result.problem },
    );
  }
  for (const key of accepted.keys()) if (!judged.has(key)) accepted.delete(key);

  let workloads = [...base.workloads];
  const droppedWorkloads: string[] = [];
  // Each round takes out or steps back at least one object at fault, so this ends.
  for (;;) {
    const built = buildMeshModel(documentsOf(base.declaredServices, workloads, judged), settings);
    if (built.ok) return { model: built.model, verdicts: verdictsOf(judged, accepted), droppedWorkloads };
    let changed = false;
    for (const problem of problemsToAnswer(built.problems, judged, accepted)) {
      const [namespace = '', name = ''] = problem.key.split('/');
      const entry = judged.get(resourceKey(problem.kind, namespace, name));
      if (entry?.inForce) {
        changed = true;
        if (entry.inForce === entry.current) {
          // The current version does not fit the mesh: step back to the last accepted one, if any.
          entry.problem = `${formatPath(problem.path)}: ${problem.problem}`;
          const previous = accepted.get(resourceKey(problem.kind, namespace, name));
          entry.inForce = previous !== undefined && previous.uid === entry.current.uid && previous.generation !== entry.current.generation ? previous : undefined;
        } else {
          entry.inForce = undefined;
        }
      } else if (problem.kind === 'Workload') {
        const before = workloads.length;
        workloads = workloads.filter((workload) => `${workload.meta.namespace}/${workload.meta.name}` !== problem.key);
        if (workloads.length < before) {
          changed = true;
          droppedWorkloads.push(`${problem.key}: ${formatPath(problem.path)}: ${problem.problem}`);
        }
      }
    }
    if (!changed) return { model: undefined, verdicts: verdictsOf(judged, accepted), droppedWorkloads };
  }
}

/**
 * The problems to act on this round. A new or edited resource is at fault before one accepted
 * as it is: a broken update of a DestinationPolicy also breaks the routes that use its subsets,
 * and stepping the policy back mends them — the routes must not be taken out for it.
 */
function problemsToAnswer(problems: readonly ModelProblem[], judged: ReadonlyMap<string, Judged>, accepted: ReadonlyMap<string, AcceptedResource>): readonly ModelProblem[] {
  const untried = problems.filter((problem) => {
    const [namespace = '', name = ''] = problem.key.split('/');
    const key = resourceKey(problem.kind, namespace, name);
    const entry = judged.get(key);
    const previous = accepted.get(key);
    return entry?.current !== undefined && entry.inForce === entry.current && (previous === undefined || previous.uid !== entry.current.uid || previous.generation !== entry.current.generation);
  });
  return untried.length > 0 ? untried : problems;
}

function verdictsOf(judged: ReadonlyMap<string, Judged>, accepted: Map<string, AcceptedResource>): Map<string, Verdict> {
  const verdicts = new Map<string, Verdict>();
  for (const [key, entry] of judged) {
    if (entry.problem === undefined && entry.inForce) {
      accepted.set(key, entry.inForce);
      verdicts.set(key, { accepted: true, reason: 'Accepted', message: 'Applied to the mesh', generation: entry.generation });
      continue;
    }
    if (!entry.inForce) accepted.delete(key);
    const kept = entry.inForce ? `; generation ${entry.inForce.generation ?? '?'}, accepted earlier, stays in force` : '';
    verdicts.set(key, { accepted: false, reason: 'Invalid', message: `${entry.problem ?? 'not applied'}${kept}`, generation: entry.generation });
  }
  return verdicts;
}

function documentsOf(declaredServices: readonly DeclaredService[], workloads: readonly Workload[], judged: ReadonlyMap<string, Judged>): MeshDocuments {
  const collector = new DocumentCollector();
  for (const { inForce } of judged.values()) if (inForce) collector.add(inForce.kind, inForce.document);
  return { ...collector.documents(), declaredServices, workloads };
}
