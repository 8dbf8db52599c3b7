// Reading the repository's Kubernetes manifests: every YAML file under deploy/k8s (samples
// included) and e2e/kind/manifests, each document with where it came from.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEPLOY_DIR = join(ROOT, 'deploy', 'k8s');
export const SAMPLES_DIR = join(DEPLOY_DIR, 'samples');
export const KIND_MANIFESTS_DIR = join(ROOT, 'e2e', 'kind', 'manifests');

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown> & { name: string; namespace?: string };
};

export interface LoadedDocument {
  /** Repository-relative path, e.g. deploy/k8s/controlplane/rbac.yaml. */
  readonly file: string;
  /** 1-based index of the document in its file. */
  readonly index: number;
  readonly object: KubeObject;
}

/** "file#index (Kind namespace/name)", for assertion messages. */
export function describeDocument(doc: LoadedDocument): string {
  const { kind, metadata } = doc.object;
  return `${doc.file}#${doc.index} (${kind} ${metadata.namespace ? `${metadata.namespace}/` : ''}${metadata.name})`;
}

/** YAML files under `dir`, recursively, as absolute paths, sorted. */
export function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

export function isKustomization(path: string): boolean {
  return /(^|\/)kustomization\.ya?ml$/.test(path);
}

/**
 * The documents of a multi-document YAML text. Throws on a YAML error (duplicate keys
 * included), on a document that is not a mapping, and on one without apiVersion, kind and
 * metadata.name. Empty documents are skipped, as kubectl skips them.
 */
export function parseManifests(text: string, file: string): LoadedDocument[] {
  const out: LoadedDocument[] = [];
  for (const [offset, doc] of parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false }).entries()) {
    const where = `${file}#${offset + 1}`;
    if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors.map((error) => error.message).join('; ')}`);
    const object: unknown = doc.toJS({ maxAliasCount: -1 });
    if (object === null || object === undefined) continue;
    if (typeof object !== 'object' || object === null || Array.isArray(object)) throw new Error(`${where}: not a mapping`);
    const { apiVersion, kind, metadata } = object as Record<string, unknown>;
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') throw new Error(`${where}: apiVersion and kind are required`);
    if (typeof metadata !== 'object' || metadata === null || typeof (metadata as { name?: unknown }).name !== 'string') throw new Error(`${where}: metadata.name is required`);
    out.push({ file, index: offset + 1, object: object as KubeObject });
  }
  return out;
}

export function loadFile(path: string): LoadedDocument[] {
  return parseManifests(readFileSync(path, 'utf8'), relative(ROOT, path));
}

/** Every Kubernetes object in the repository's manifests (kustomization files excluded). */
export function loadAllManifests(): LoadedDocument[] {
  return [...yamlFiles(DEPLOY_DIR), ...yamlFiles(KIND_MANIFESTS_DIR)].filter((path) => !isKustomization(path)).flatMap(loadFile);
}

/** The `resources` of a kustomization.yaml, parsed as YAML (independently of weft install's reader). */
export function kustomizationResources(dir: string): string[] {
  const { resources } = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'), { uniqueKeys: true }) as { resources?: unknown };
  if (!Array.isArray(resources) || !resources.every((item) => typeof item === 'string')) throw new Error(`${dir}/kustomization.yaml: resources must be a list of paths`);
  return resources;
}
