// weft install: prints Weft's Kubernetes installation — deploy/k8s as `kubectl kustomize` builds
// it — as one multi-document YAML for `weft install | kubectl apply -f -`. The manifests are the
// files deploy/k8s/kustomization.yaml lists, concatenated in its order; this command never
// templates them, so what it prints is exactly what the repository (or the image) holds.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export interface Output {
  write(text: string): unknown;
}

/** deploy/k8s of this checkout (or of the image, which keeps the repository layout). */
export const DEPLOY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'deploy', 'k8s');

/** How each file's documents are introduced in the output, Helm-style. */
export const SOURCE_PREFIX = '# Source: deploy/k8s/';

const USAGE = `usage: weft install

Prints Weft's Kubernetes manifests (deploy/k8s: namespace weft-system, the four CRDs, RBAC,
the control plane and the sidecar injection webhook) as one multi-document YAML:

  weft install | kubectl apply -f -

The same as kubectl apply -k deploy/k8s. Then label a namespace to mesh its pods:

  kubectl label namespace NAME weft-injection=enabled`;

/** Kustomization fields weft install can honour by concatenating files; anything else would need kustomize. */
const SUPPORTED_FIELDS = new Set(['apiVersion', 'kind', 'resources']);

export class KustomizationError extends Error {}

/**
 * The `resources` of a kustomization.yaml, in order. Only plain file lists are supported (no
 * patches, prefixes or generators), which keeps this equal to `kubectl kustomize`; a small
 * line reader suffices for that and keeps the CLI free of a YAML dependency.
 */
export function kustomizationResources(text: string): string[] {
  const resources: string[] = [];
  let inResources = false;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\s+#.*$/, '').trimEnd();
    if (line === '' || line.trimStart().startsWith('#')) continue;
    const key = /^([A-Za-z][\w-]*):\s*(.*)$/.exec(line);
    if (key) {
      const [, name, rest] = key as unknown as [string, string, string];
      if (!SUPPORTED_FIELDS.has(name)) throw new KustomizationError(`line ${index + 1}: "${name}" is not supported: weft install only concatenates the files listed under resources`);
      inResources = name === 'resources';
      if (inResources && rest !== '') throw new KustomizationError(`line ${index + 1}: write resources as a block list ("- file.yaml" per line)`);
      continue;
    }
    const item = /^\s*-\s+(.+)$/.exec(line);
    if (!inResources || !item) throw new KustomizationError(`line ${index + 1}: unexpected "${line.trim()}"`);
    const path = (item[1] as string).replace(/^(['"])(.*)\1$/, '$2');
    if (!/\.ya?ml$/.test(path) || isAbsolute(path) || normalize(path).startsWith('..') || path.includes('://')) {
      throw new KustomizationError(`line ${index + 1}: "${path}" is not a YAML file inside the kustomization's directory`);
    }
    resources.push(path);
  }
  if (resources.length === 0) throw new KustomizationError('no resources listed');
  return resources;
}

/** The installation as one multi-document YAML: each listed file, in order, after a Source comment. */
export function renderInstall(dir: string = DEPLOY_DIR): string {
  const resources = kustomizationResources(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
  return resources
    .map((path) => {
      const content = readFileSync(join(dir, path), 'utf8').replace(/^---[ \t]*\r?\n/, '').trimEnd();
      return `${SOURCE_PREFIX}${path}\n${content}\n`;
    })
    .join('---\n');
}

export const installCommand = {
  summary: 'print the Kubernetes manifests that install Weft (for kubectl apply -f -)',
  usage: USAGE,
  // eslint-disable-next-line @typescript-eslint/require-await -- the command interface is async
  async run(args: string[], stdout: Output = process.stdout, stderr: Output = process.stderr): Promise<number> {
    try {
      const { values } = parseArgs({ args, options: { help: { type: 'boolean', default: false } }, allowPositionals: false, strict: true });
      if (values.help) {
        stdout.write(`${USAGE}\n`);
        return 0;
      }
    } catch (error) {
      stderr.write(`weft install: ${(error as Error).message}\n${USAGE}\n`);
      return 2;
    }
    let manifests: string;
    try {
      manifests = renderInstall();
    } catch (error) {
      stderr.write(`weft install: cannot read the manifests in ${DEPLOY_DIR}: ${(error as Error).message}\n`);
      return 1;
    }
    stdout.write(manifests);
    return 0;
  },
};
