import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { injectPod } from './inject-pod.ts';
import { resolveInjectionSettings } from './injection-settings.ts';
import { injectManifest, ManifestError } from './manifest.ts';

const settings = resolveInjectionSettings({ proxyImage: 'registry.example/weft-proxy:0.1.0' });

const DEPLOYMENT = `# The orders service.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: orders}
  template:
    metadata:
      labels: {app: orders}  # the Service selects this
    spec:
      serviceAccountName: orders
      containers:
      - name: app
        image: registry.example/orders:1.2
        ports: [{containerPort: 8080, name: http}]
`;

const SERVICE = `---
apiVersion: v1
kind: Service
metadata:
  name: orders
  namespace: shop
spec:
  selector: {app: orders}
  ports:
  - {name: http, port: 80, targetPort: http}   # odd spacing, kept as written
`;

const JOB = `---
apiVersion: batch/v1
kind: Job
metadata: {name: report, namespace: shop}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: report, image: "registry.example/report:1"}
`;

const CRONJOB = `---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: nightly, image: "nightly:1"}]
`;

const HOST_NETWORK_DAEMONSET = `---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent, namespace: monitoring}
spec:
  selector: {matchLabels: {app: node-agent}}
  template:
    metadata: {labels: {app: node-agent}}
    spec:
      hostNetwork: true
      containers: [{name: agent, image: "agent:1"}]
`;

type Json = Record<string, unknown>;

function documents(text: string): Json[] {
  return parseAllDocuments(text).map((doc) => doc.toJS() as Json);
}

function at(value: unknown, ...path: (string | number)[]): unknown {
  return path.reduce<unknown>((current, key) => (current as Record<string | number, unknown> | undefined)?.[key], value);
}

function manifestError(text: string): ManifestError {
  try {
    injectManifest(text, 'app.yaml', settings);
  } catch (error) {
    assert.ok(error instanceof ManifestError, String(error));
    return error;
  }
  assert.fail('injected');
}

describe('injectManifest', () => {
  it('injects pod templates as injectPod does, and passes other documents through byte for byte', () => {
    const input = DEPLOYMENT + SERVICE + JOB + CRONJOB;
    const result = injectManifest(input, 'app.yaml', settings);
    const [deployment, service, job, cronJob] = documents(result.text);
    const [originalDeployment, , originalJob, originalCronJob] = documents(input);

    assert.deepEqual(at(deployment, 'spec', 'template'), injectPod(at(originalDeployment, 'spec', 'template'), settings, { namespace: 'shop' }).pod);
    assert.deepEqual(at(job, 'spec', 'template'), injectPod(at(originalJob, 'spec', 'template'), settings, { namespace: 'shop' }).pod);
    assert.deepEqual(at(cronJob, 'spec', 'jobTemplate', 'spec', 'template'), injectPod(at(originalCronJob, 'spec', 'jobTemplate', 'spec', 'template'), settings, { namespace: 'shop' }).pod);
    assert.equal(at(service, 'kind'), 'Service');
    assert.ok(result.text.includes(SERVICE), 'the Service is written exactly as it was read');

    // Outside the additions, the Deployment is unchanged, comments included.
    assert.deepEqual({ ...deployment, spec: { ...(deployment?.spec as Json), template: undefined } }, { ...originalDeployment, spec: { ...(originalDeployment?.spec as Json), template: undefined } });
    assert.match(result.text, /^# The orders service\.\n/);
    assert.match(result.text, /labels: \{ app: orders \} # the Service selects this/);

    assert.deepEqual(
      result.pods.map((pod) => [pod.document, pod.object, pod.podPath, pod.outcome]),
      [
        [1, 'Deployment shop/orders', 'spec.template', 'injected'],
        [3, 'Job shop/report', 'spec.template', 'injected'],
        [4, 'CronJob shop/nightly', 'spec.jobTemplate.spec.template', 'injected'],
      ],
    );
  });

  it('gives Jobs and CronJobs the proxy as a native sidecar', () => {
    const [job, cronJob] = documents(injectManifest(JOB + CRONJOB, 'jobs.yaml', settings).text);
    for (const spec of [at(job, 'spec', 'template', 'spec'), at(cronJob, 'spec', 'jobTemplate', 'spec', 'template', 'spec')]) {
      const initContainers = (spec as { initContainers: { name: string; restartPolicy?: string }[] }).initContainers;
      assert.deepEqual(initContainers.map((container) => [container.name, container.restartPolicy]), [['weft-init', undefined], ['weft-proxy', 'Always']]);
    }
  });

  it('is idempotent: injecting its own output changes nothing', () => {
    const once = injectManifest(DEPLOYMENT + SERVICE + JOB, 'app.yaml', settings);
    const twice = injectManifest(once.text, 'app.yaml', settings);
    assert.equal(twice.text, once.text);
    assert.deepEqual(twice.pods.map((pod) => pod.outcome), ['already-injected', 'already-injected']);
  });

  it('injects bare Pods and the items of a List, and reports skipped pods with the reason', () => {
    const input = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: one}
  spec: {containers: [{name: app, image: "app:1"}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: two, annotations: {weft.dev/inject: "false"}}
  spec: {containers: [{name: app, image: "app:1"}]}
${HOST_NETWORK_DAEMONSET}`;
    const result = injectManifest(input, 'list.yaml', settings);
    assert.deepEqual(
      result.pods.map((pod) => [pod.object, pod.podPath, pod.outcome]),
      [
        ['Pod one', 'items[0]', 'injected'],
        ['Pod two', 'items[1]', 'opted-out'],
        ['DaemonSet monitoring/node-agent', 'spec.template', 'host-network'],
      ],
    );
    const [list] = documents(result.text);
    assert.equal((at(list, 'items', 0, 'spec', 'initContainers') as unknown[]).length, 2);
    assert.equal(at(list, 'items', 1, 'spec', 'initContainers'), undefined);
    assert.ok(result.text.endsWith(HOST_NETWORK_DAEMONSET), 'the skipped DaemonSet is unchanged');
  });

  it('leaves a manifest without pods, and empty documents, exactly as they were', () => {
    const input = `# only config\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: "1"}\n---\n---\n# trailing comment\n`;
    const result = injectManifest(input, 'config.yaml', settings);
    assert.equal(result.text, input);
    assert.deepEqual(result.pods, []);
  });

  it('refuses the whole manifest when a pod cannot be injected, naming file, line, document and annotation', () => {
    const bad = DEPLOYMENT.replace('      labels: {app: orders}  # the Service selects this\n', '      labels: {app: orders}\n      annotations:\n        weft.dev/proxy-cpu: "a lot"\n');
    const error = manifestError(`${SERVICE}---\n${bad}`);
    assert.equal(error.message, 'app.yaml:26:29: document 2 (Deployment shop/orders): spec.template.metadata.annotations.weft.dev/proxy-cpu: "a lot" is not a positive Kubernetes quantity (examples: 100m, 0.5, 2)');
  });

  it('reports YAML errors and missing pod templates', () => {
    assert.match(manifestError('apiVersion: v1\nkind: Pod\nspec: {containers: [\n').message, /^app\.yaml:\d+:\d+: document 1: YAML: /);
    assert.equal(manifestError('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 1}\n').message, 'app.yaml:4:7: document 1 (Deployment web): spec.template: required: the pod template is missing');
    assert.equal(manifestError('apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: []\n').message, 'app.yaml:5:15: document 1 (Pod web): spec.containers: must list at least one entry');
 
    // An alias shares its anchor's node: the YAML cannot be edited for one user only.
    const aliased = 'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}, spec: &spec {containers: [{name: app, image: "app:1"}]}}\n- {apiVersion: v1, kind: Pod, metadata: {name: b}, spec: *spec}\n';
    assert.match(manifestError(aliased).message, /^app\.yaml:5:\d+: document 1 \(Pod b\): items\[1\]\.spec: is not a plain mapping or list in the YAML \(an alias\?\)/);
  });
});
