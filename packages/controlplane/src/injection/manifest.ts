// `weft inject` over a multi-document YAML manifest: the pods, and the pod templates of
// workload kinds, get exactly the webhook's sidecar (injectPod); every other document, and
// every document nothing is added to, comes out byte for byte as it went in. Changed documents
// are edited in place through the YAML tree, by the same JSON Patch the webhook would answer,
// so comments and the order of fields around the additions survive.
import { isCollection, isMap, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { FieldError, formatPath, type FieldPath } from '../registry/field.ts';
import { fieldPosition, formatFileProblem, type FileProblem } from '../registry/mesh-file.ts';
import { injectPod, type InjectionOutcome } from './inject-pod.ts';
import type { InjectionSettings } from './injection-settings.ts';
import { parseJsonPointer, type JsonPatchOperation } from './json-patch.ts';

/** Where each kind keeps the pod it creates; [] is the document itself. */
export const POD_TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export interface ManifestInjection {
  /** 1-based index of the document in the manifest. */
  readonly document: number;
  /** "Kind namespace/name" (or "Kind name" when the manifest leaves the namespace to kubectl). */
  readonly object: string;
  /** Where the pod is in the document, e.g. "spec.template"; "(document)" for a Pod. */
  readonly podPath: string;
  readonly outcome: InjectionOutcome;
  readonly reason: string | undefined;
}

export interface InjectedManifest {
  readonly text: string;
  readonly pods: readonly ManifestInjection[];
}

/** The manifest cannot be injected; nothing is written. Each problem names file, line, document and field. */
export class ManifestError extends Error {
  readonly problems: readonly FileProblem[];
  constructor(problems: readonly FileProblem[]) {
    super(problems.map(formatFileProblem).join('\n'));
    this.name = 'ManifestError';
    this.problems = problems;
  }
}

interface PodLocation {
  readonly path: FieldPath;
  readonly object: string;
  readonly namespace: string | undefined;
}

type Json = Record<string, unknown>;

function record(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function valueAt(root: unknown, path: FieldPath): unknown {
  let current = root;
  for (const segment of path) current = Array.isArray(current) ? current[segment as number] : record(current)?.[segment];
  return current;
}

/** The pods in one document object (the items of a List, recursively). */
function podLocations(object: unknown, prefix: FieldPath): PodLocation[] {
  const root = record(object);
  const kind = text(root?.kind);
  if (!root || !kind) return [];
  if (kind === 'List' && Array.isArray(root.items)) return root.items.flatMap((item, index) => podLocations(item, [...prefix, 'items', index]));
  const templatePath = POD_TEMPLATE_PATHS[kind];
  if (!templatePath) return [];
  const metadata = record(root.metadata);
  const namespace = text(metadata?.namespace);
  const name = text(metadata?.name) ?? text(metadata?.generateName) ?? '(unnamed)';
  return [{ path: [...prefix, ...templatePath], object: `${kind} ${namespace ? `${namespace}/` : ''}${name}`, namespace }];
}

/** Applies the injector's `add` operations, relative to the pod at `podPath`, to the YAML tree. Throws FieldError relative to the pod. */
function patchYaml(doc: Document, podPath: FieldPath, patch: readonly JsonPatchOperation[]): void {
  for (const operation of patch) {
    if (operation.op !== 'add') throw new Error(`weft inject applies only "add" operations, got "${operation.op}"`);
    const inPod = parseJsonPointer(operation.path);
    const key = inPod.pop() as string;
    const parentPath = [...podPath, ...inPod];
    const parent = parentPath.length === 0 ? doc.contents : doc.getIn(parentPath, true);
    const node = doc.createNode(operation.value);
    if (isSeq(parent)) {
      if (key === '-') parent.items.push(node);
      else parent.items.splice(Number(key), 0, node);
    } else if (isMap(parent)) {
      parent.set(key, node);
    } else {
      // An alias (*name) or tag the YAML tree cannot be edited through in place.
      throw new FieldError(inPod, 'is not a plain mapping or list in the YAML (an alias?); weft inject cannot add to it');
    }
  }
}

/**
 * Injects every pod and pod template in `manifest` (YAML, one or more documents). `file` names
 * the manifest in problems. Throws ManifestError listing every problem when any document
 * cannot be read or injected.
 */
export function injectManifest(manifest: string, file: string, settings: InjectionSettings): InjectedManifest {
  const lines = new LineCounter();
  const documents = parseAllDocuments(manifest, { lineCounter: lines, prettyErrors: false });
  const problems: FileProblem[] = [];
  const pods: ManifestInjection[] = [];
  const pieces: string[] = [];
  let sourceOffset = 0;
  for (const [offset, doc] of documents.entries()) {
    const index = offset + 1;
    // Each document's own text, from the end of the previous one (its '---' and leading comments included).
    const source = manifest.slice(sourceOffset, doc.range[2]);
    sourceOffset = doc.range[2];
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const { line, col } = lines.linePos(error.pos[0]);
        problems.push({ file, line, column: col, document: index, object: undefined, field: undefined, problem: `YAML: ${error.message.split('\n')[0]}` });
      }
      continue;
    }
    const object: unknown = isCollection(doc.contents) ? doc.toJS({ maxAliasCount: 100 }) : undefined;
    let changed = false;
    for (const location of podLocations(object, [])) {
      const problem = (path: FieldPath, message: string): void => {
        problems.push({ file, ...fieldPosition(doc, path, lines), document: index, object: location.object, field: formatPath(path), problem: message });
      };
      const pod = valueAt(object, location.path);
      if (pod === undefined || pod === null) {
        problem(location.path, 'required: the pod template is missing');
        continue;
      }
      try {
        const result = injectPod(pod, settings, { namespace: location.namespace });
        pods.push({ document: index, object: location.object, podPath: formatPath(location.path), outcome: result.outcome, reason: result.reason });
        if (result.patch.length > 0) {
          patchYaml(doc, location.path, result.patch);
          changed = true;
        }
      } catch (error) {
        if (!(error instanceof FieldError)) throw error;
        problem([...location.path, ...error.path], error.problem);
      }
    }
    pieces.push(changed ? doc.toString({ lineWidth: 0 }) : source);
  }
  if (problems.length > 0) throw new ManifestError(problems);
  pieces.push(manifest.slice(sourceOffset));
  return { text: pieces.join(''), pods };
}
