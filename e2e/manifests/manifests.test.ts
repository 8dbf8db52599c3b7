// Every manifest in deploy/k8s (samples included) and e2e/kind/manifests parses and validates
// as the API server would validate it; the kustomizations list every file; `weft install`
// prints exactly the kustomization; and the installation keeps the promises deploy/k8s/README.md
// makes (least-privilege RBAC, hardened control plane, the webhook's scope).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { installCommand } from '@weft/cli';
import { isBuiltinKind, unknownFields, validateBuiltin } from './builtin.ts';
import { CrdValidator } from './crd-schema.ts';
import { DEPLOY_DIR, describeDocument, isKustomization, kustomizationResources, loadAllManifests, loadFile, parseManifests, ROOT, SAMPLES_DIR, yamlFiles, type KubeObject, type LoadedDocument } from './load.ts';

const ALL = loadAllManifests();
const CRDS = ALL.filter((doc) => doc.object.kind === 'CustomResourceDefinition').map((doc) => doc.object);
const crdValidator = new CrdValidator(CRDS);

function problemsOf(object: KubeObject): string[] {
  if (isBuiltinKind(object)) return validateBuiltin(object);
  if (crdValidator.knows(object)) return crdValidator.validate(object);
  throw new Error(`unknown kind: ${object.apiVersion} ${object.kind} (neither a built-in kind this suite validates nor a Weft CRD)`);
}

function find(kind: string, name: string, docs: readonly LoadedDocument[] = ALL): KubeObject {
  const found = docs.find((doc) => doc.object.kind === kind && doc.object.metadata.name === name);
  assert.ok(found, `${kind} ${name} not found`);
  return found.object;
}

async function weftInstall(): Promise<string> {
  let out = '';
  let err = '';
  const status = await installCommand.run([], { write: (text: string) => (out += text) }, { write: (text: string) => (err += text) });
  assert.equal(status, 0, err);
  return out;
}

describe('manifests', () => {
  it('are found: deploy/k8s with its samples, and the kind suite manifests', () => {
    const files = new Set(ALL.map((doc) => doc.file));
    assert.ok(files.size >= 20, `only ${files.size} files`);
    for (const kind of ['Namespace', 'CustomResourceDefinition', 'Deployment', 'MutatingWebhookConfiguration', 'TrafficRoute', 'DestinationPolicy', 'MeshAuthentication', 'AccessPolicy']) {
      assert.ok(ALL.some((doc) => doc.object.kind === kind), `no ${kind}`);
    }
  });

  for (const doc of ALL) {
    it(`${describeDocument(doc)} validates`, () => {
      assert.deepEqual(problemsOf(doc.object), []);
    });
  }

  it('object names are unique per kind and namespace', () => {
    const seen = new Set<string>();
    for (const doc of ALL) {
      const key = `${doc.object.apiVersion} ${doc.object.kind} ${doc.object.metadata.namespace ?? ''}/${doc.object.metadata.name}`;
      assert.ok(!seen.has(key), `${key} is defined twice`);
      seen.add(key);
    }
  });

  describe('the validators themselves', () => {
    it('refuse an unknown kind', () => {
      assert.throws(() => problemsOf({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }), /unknown kind/);
    });

    it('refuse a misspelt field of a built-in kind, and a wrong type', () => {
      const deployment = structuredClone(find('Deployment', 'weft-controlplane'));
      const container = (deployment.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0] as Record<string, unknown>;
      container.readinesProbe = container.readinessProbe;
      assert.deepEqual(
        validateBuiltin(deployment).filter((problem) => problem.includes('readinesProbe')).length,
        1,
      );
      const securityContext = container.securityContext as Record<string, unknown>;
      securityContext.readOnlyRootFileSystem = true;
      assert.ok(validateBuiltin(deployment).some((problem) => problem.includes('securityContext.readOnlyRootFileSystem: unknown field')));
      container.ports = [{ containerPort: '15012' }];
      assert.ok(validateBuiltin(deployment).some((problem) => problem.startsWith('schema:') && problem.includes('containerPort')));
    });

    it('check CRD schemas for unknown keywords too', () => {
      const crd = structuredClone(find('CustomResourceDefinition', 'trafficroutes.mesh.weft.dev'));
      const schema = (crd.spec as { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] }).versions[0]?.schema.openAPIV3Schema as Record<string, unknown>;
      ((schema.properties as Record<string, Record<string, unknown>>).spec as Record<string, unknown>).minProperies = 1;
      assert.deepEqual(unknownFields(crd, 'V1CustomResourceDefinition', '').map((problem) => problem.split(':')[0]), ['spec.versions[0].schema.openAPIV3Schema.properties.spec.minProperies']);
    });

    it('refuse YAML errors, duplicate keys, and documents without kind or name', () => {
      assert.throws(() => parseManifests('a: [\n', 'x.yaml'), /x\.yaml#1/);
      assert.throws(() => parseManifests('apiVersion: v1\nkind: A\nkind: B\nmetadata: {name: a}\n', 'x.yaml'), /x\.yaml#1/);
      assert.throws(() => parseManifests('apiVersion: v1\nmetadata: {name: a}\n', 'x.yaml'), /apiVersion and kind/);
      assert.throws(() => parseManifests('apiVersion: v1\nkind: A\nmetadata: {}\n', 'x.yaml'), /metadata.name/);
      assert.equal(parseManifests('---\napiVersion: v1\nkind: A\nmetadata: {name: a}\n---\n', 'x.yaml').length, 1);
    });
  });
});

describe('kustomizations', () => {
  for (const [dir, exclude] of [
    [DEPLOY_DIR, SAMPLES_DIR],
    [SAMPLES_DIR, undefined],
  ] as const) {
    const name = relative(ROOT, dir);
    it(`${name}/kustomization.yaml lists every manifest file there, and only existing ones, once`, () => {
      const listed = kustomizationResources(dir);
      assert.equal(new Set(listed).size, listed.length, 'a file is listed twice');
      const present = yamlFiles(dir)
        .filter((path) => !isKustomization(path) && (exclude === undefined || !path.startsWith(`${exclude}/`)))
        .map((path) => relative(dir, path));
      assert.deepEqual([...listed].sort(), present.sort());
    });
  }

  it('the samples need only what weft install provides, and weft install holds no samples', () => {
    const install = kustomizationResources(DEPLOY_DIR).flatMap((path) => loadFile(join(DEPLOY_DIR, path)));
    for (const doc of install) {
      assert.ok(!doc.object.apiVersion.startsWith('mesh.weft.dev/'), `${describeDocument(doc)}: weft install creates no custom resources`);
      assert.ok([undefined, 'weft-system'].includes(doc.object.metadata.namespace), `${describeDocument(doc)}: weft install stays in weft-system`);
    }
    for (const doc of kustomizationResources(SAMPLES_DIR).flatMap((path) => loadFile(join(SAMPLES_DIR, path)))) {
      if (doc.object.apiVersion.startsWith('mesh.weft.dev/')) assert.ok(crdValidator.knows(doc.object), describeDocument(doc));
    }
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  it('kubectl kustomize deploy/k8s builds the same objects, in the same order, as weft install', { skip: kubectl.status === 0 ? false : 'kubectl is not installed (its embedded kustomize is the independent check)' }, async () => {
    const built = spawnSync('kubectl', ['kustomize', DEPLOY_DIR], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    const fromKustomize = parseManifests(built.stdout, 'kustomize').map((doc) => doc.object);
    const fromInstall = parseManifests(await weftInstall(), 'weft install').map((doc) => doc.object);
    assert.deepEqual(fromInstall, fromKustomize);
    const samples = spawnSync('kubectl', ['kustomize', SAMPLES_DIR], { encoding: 'utf8' });
    assert.equal(samples.status, 0, samples.stderr);
  });
});

describe('weft install', () => {
  it('prints the kustomization resources, concatenated in order, and every document validates', async () => {
    const output = await weftInstall();
    const expected = kustomizationResources(DEPLOY_DIR)
      .map((path) => `# Source: deploy/k8s/${path}\n${readFileSync(join(DEPLOY_DIR, path), 'utf8').trimEnd()}\n`)
      .join('---\n');
    assert.equal(output, expected);
    const docs = parseManifests(output, 'weft install');
    const fromFiles = kustomizationResources(DEPLOY_DIR).flatMap((path) => loadFile(join(DEPLOY_DIR, path)));
    assert.deepEqual(docs.map((doc) => doc.object), fromFiles.map((doc) => doc.object));
    for (const doc of docs) assert.deepEqual(problemsOf(doc.object), [], describeDocument(doc));
  });

  it('installs one image, pinned, for every container', async () => {
    const images = parseManifests(await weftInstall(), 'weft install')
      .filter((doc) => doc.object.kind === 'Deployment')
      .flatMap((doc) => (doc.object.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers.map((container) => container.image));
    assert.deepEqual(images, ['ghcr.io/weft-mesh/weft:0.1.0']);
  });
});

describe('the installation', () => {
  it('the ClusterRole grants exactly the verbs the control plane uses', () => {
    const rules = (find('ClusterRole', 'weft-controlplane').rules as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[]).flatMap((rule) =>
      rule.apiGroups.flatMap((group) => rule.resources.map((resource) => `${group || 'core'}/${resource}${rule.resourceNames ? `[${rule.resourceNames.join(',')}]` : ''}: ${[...rule.verbs].sort().join(',')}`)),
    );
    assert.deepEqual(rules.sort(), [
      'admissionregistration.k8s.io/mutatingwebhookconfigurations[weft-sidecar-injector]: get,patch,update',
      'authentication.k8s.io/tokenreviews: create',
      'core/configmaps: create',
      'core/configmaps[weft-root-cert]: get,update',
      'core/namespaces: list,watch',
      'core/pods: list,watch',
      'core/services: list,watch',
      'discovery.k8s.io/endpointslices: list,watch',
      'mesh.weft.dev/accesspolicies/status: patch,update',
      'mesh.weft.dev/accesspolicies: list,watch',
      'mesh.weft.dev/destinationpolicies/status: patch,update',
      'mesh.weft.dev/destinationpolicies: list,watch',
      'mesh.weft.dev/meshauthentications/status: patch,update',
      'mesh.weft.dev/meshauthentications: list,watch',
      'mesh.weft.dev/trafficroutes/status: patch,update',
      'mesh.weft.dev/trafficroutes: list,watch',
    ]);
    const role = (find('Role', 'weft-controlplane').rules as { resources: string[]; verbs: string[]; resourceNames?: string[] }[]).map((rule) => `${rule.resources.join(',')}${rule.resourceNames ? `[${rule.resourceNames.join(',')}]` : ''}: ${rule.verbs.join(',')}`);
    assert.deepEqual(role, ['leases: create', 'leases[weft-controlplane]: get,update', 'secrets: create', 'secrets[weft-ca]: get']);
    const allRules = [...(find('ClusterRole', 'weft-controlplane').rules as { verbs: string[]; resources: string[] }[]), ...(find('Role', 'weft-controlplane').rules as { verbs: string[]; resources: string[] }[])];
    assert.ok(allRules.every((rule) => !rule.verbs.includes('*') && !rule.resources.includes('*') && !rule.verbs.includes('delete')));
  });

  it('the control plane runs hardened, with probes, resources and two spread replicas', () => {
    const deployment = find('Deployment', 'weft-controlplane') as KubeObject & { spec: Record<string, unknown> & { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } } };
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0] as Record<string, unknown>;
    assert.deepEqual(container.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.deepEqual(container.readinessProbe && (container.readinessProbe as { httpGet: unknown }).httpGet, { path: '/ready', port: 15014 });
    assert.ok(container.livenessProbe);
    assert.ok((container.resources as { requests?: unknown }).requests);
    assert.deepEqual(container.command, ['weft-controlplane']);
    assert.deepEqual(container.args, ['--registry', 'kubernetes', '--ca-secret', 'weft-ca', '--xds-address', 'off', '--secure-address', '0.0.0.0:15012', '--debug-address', '0.0.0.0:15014', '--webhook-address', '0.0.0.0:15017', '--webhook-config', 'weft-sidecar-injector', '--proxy-image', 'ghcr.io/weft-mesh/weft:0.1.0', '--init-image', 'ghcr.io/weft-mesh/weft:0.1.0']);
    assert.deepEqual((container.env as { name: string }[]).map((env) => env.name).slice(0, 2), ['POD_NAME', 'POD_NAMESPACE']);
    assert.equal(pod.serviceAccountName, 'weft-controlplane');
    assert.ok(Array.isArray(pod.topologySpreadConstraints));
    const pdb = find('PodDisruptionBudget', 'weft-controlplane') as KubeObject & { spec: { minAvailable: number; selector: unknown } };
    assert.equal(pdb.spec.minAvailable, 1);
    assert.deepEqual(pdb.spec.selector, deployment.spec.selector);
  });

  it('the Service names its ports with their protocols and reaches the container ports', () => {
    const service = find('Service', 'weft-controlplane') as KubeObject & { spec: { ports: { name: string; port: number; targetPort: number }[] } };
    assert.deepEqual(service.spec.ports.map((port) => `${port.name}:${port.port}->${port.targetPort}`), ['grpc-xds:15010->15010', 'tls-grpc:15012->15012', 'http-debug:15014->15014', 'https-webhook:15017->15017']);
  });

  it('the webhook injects pods of opted-in namespaces only, never the control plane, and fails closed', () => {
    const config = find('MutatingWebhookConfiguration', 'weft-sidecar-injector') as KubeObject & { webhooks: Record<string, unknown>[] };
    assert.equal(config.webhooks.length, 1);
    const webhook = config.webhooks[0] as Record<string, unknown> & { clientConfig: Record<string, unknown> };
    assert.equal(webhook.name, 'sidecar-injector.mesh.weft.dev');
    assert.deepEqual(webhook.clientConfig, { service: { name: 'weft-controlplane', namespace: 'weft-system', path: '/inject', port: 15017 } });
    assert.ok(!('caBundle' in webhook.clientConfig), 'the control plane patches caBundle in; the manifest must not carry one');
    assert.deepEqual(webhook.namespaceSelector, { matchLabels: { 'weft-injection': 'enabled' }, matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['weft-system', 'kube-system'] }] });
    assert.deepEqual(webhook.objectSelector, { matchExpressions: [{ key: 'weft.dev/inject', operator: 'NotIn', values: ['false'] }] });
    assert.deepEqual(webhook.rules, [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }]);
    assert.equal(webhook.failurePolicy, 'Fail');
    assert.equal(webhook.sideEffects, 'None');
    assert.deepEqual(webhook.admissionReviewVersions, ['v1']);
    assert.equal(webhook.reinvocationPolicy, 'Never');
    assert.equal(webhook.timeoutSeconds, 10);
  });

  it('the samples: demo is opted in, orders has v1 and v2, and the image is a pinned public echo server', () => {
    assert.deepEqual((find('Namespace', 'demo').metadata as { labels?: unknown }).labels, { 'weft-injection': 'enabled' });
    assert.equal((find('Namespace', 'legacy').metadata as { labels?: unknown }).labels, undefined);
    for (const name of ['orders-v1', 'orders-v2']) {
      const deployment = find('Deployment', name) as KubeObject & { spec: { template: { metadata: { labels: Record<string, string> } } } };
      assert.equal(deployment.spec.template.metadata.labels.version, name.slice('orders-'.length));
    }
    const images = new Set(ALL.filter((doc) => doc.file.includes('/samples/') && doc.object.kind === 'Deployment').flatMap((doc) => (doc.object.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers.map((container) => container.image)));
    assert.deepEqual([...images].sort(), ['curlimages/curl:8.11.1', 'hashicorp/http-echo:1.0.0']);
  });

  it('the image is built on the Node.js release the repository pins', () => {
    const dockerfile = readFileSync(join(ROOT, 'deploy', 'docker', 'Dockerfile'), 'utf8');
    const pinned = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.node;
    assert.match(dockerfile, new RegExp(`^ARG NODE_VERSION=${pinned?.replaceAll('.', '\\.')}$`, 'm'));
  });
});
