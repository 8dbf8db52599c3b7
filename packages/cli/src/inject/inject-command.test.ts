// `weft inject` on real files and stdin, compared with what the injection webhook answers over
// HTTPS for the pod a controller would create from the same template.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { applyJsonPatch, type AdmissionReviewResponse, type JsonPatchOperation } from '@weft/controlplane';
import { admissionReview, readYamlDocuments } from '../../../controlplane/src/injection/testing/fixtures.ts';
import { startTestWebhook, type TestWebhook } from '../../../controlplane/src/injection/testing/https-webhook.ts';
import { injectCommand } from './inject-command.ts';

const PROXY_IMAGE = 'registry.example/weft/proxy:9.9.9';
const CONTROL_PLANE = 'weft.mesh-system.svc:15012';

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
  namespace: shop
spec:
  selector:
    matchLabels: {app: orders}
  template:
    metadata:
      labels: {app: orders}
      annotations:
        weft.dev/exclude-outbound-ports: "5432"
    spec:
      serviceAccountName: orders
      initContainers:
      - {name: migrate, image: "orders:1", command: [migrate]}
      containers:
      - name: app
        image: orders:1
`;

const SERVICE = `---
# Not a workload: written back exactly as read.
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: shop}
spec:
  selector: {app: orders}
  ports: [{name: http, port: 80, targetPort: 8080}]
`;

const JOB = `---
apiVersion: batch/v1
kind: Job
metadata: {name: report, namespace: shop}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: report, image: "report:1"}]
`;

const MANIFEST = DEPLOYMENT + SERVICE + JOB;

class Capture {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

async function run(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const status = await injectCommand.run(args, stdout, stderr);
  return { status, stdout: stdout.text, stderr: stderr.text };
}

type Json = Record<string, unknown>;

function at(value: unknown, ...path: (string | number)[]): unknown {
  return path.reduce<unknown>((current, key) => (current as Record<string | number, unknown> | undefined)?.[key], value);
}

describe('weft inject', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'weft-inject-cli-'));
  const input = join(tmp, 'app.yaml');
  writeFileSync(input, MANIFEST);
  let webhook: TestWebhook;
  before(async () => {
    webhook = await startTestWebhook({ settings: { proxyImage: PROXY_IMAGE, controlPlaneAddress: CONTROL_PLANE } });
  });
  after(async () => {
    await webhook.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** What the webhook makes of the pod a controller creates from `template` in `namespace`. */
  async function webhookPod(template: unknown, namespace: string): Promise<Json> {
    const pod: Json = { apiVersion: 'v1', kind: 'Pod', ...structuredClone(template as Json) };
    pod.metadata = { ...(pod.metadata as Json | undefined), generateName: 'x-' };
    const answer = await webhook.send(admissionReview(pod, { namespace }));
    assert.equal(answer.status, 200, answer.body);
    const { response } = JSON.parse(answer.body) as AdmissionReviewResponse;
    assert.ok(response.patch, 'the webhook injects this pod');
    return applyJsonPatch(pod, JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as JsonPatchOperation[]);
  }

  it('injects a multi-document file exactly as the webhook injects the pods, and leaves the Service unchanged', async () => {
    const output = join(tmp, 'out.yaml');
    const result = await run('-f', input, '-o', output, '--proxy-image', PROXY_IMAGE, '--controlplane-address', CONTROL_PLANE);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, '', 'with -o nothing goes to stdout');
    assert.equal(result.stderr, 'injected: document 1, Deployment shop/orders spec.template\ninjected: document 3, Job shop/report spec.template\n');

    const text = readFileSync(output, 'utf8');
    assert.ok(text.includes(SERVICE), 'the Service document is byte for byte what was read');
    const [deployment, service, job] = readYamlDocuments(text);
    const [originalDeployment, originalService, originalJob] = readYamlDocuments(MANIFEST);
    assert.deepEqual(service, originalService);

    for (const [injected, original] of [[deployment, originalDeployment], [job, originalJob]]) {
      const fromWebhook = await webhookPod(at(original, 'spec', 'template'), 'shop');
      assert.deepEqual(at(injected, 'spec', 'template', 'spec'), fromWebhook.spec);
      assert.deepEqual(at(injected, 'spec', 'template', 'metadata', 'annotations'), at(fromWebhook, 'metadata', 'annotations'));
    }
    const initContainers = at(deployment, 'spec', 'template', 'spec', 'initContainers') as { name: string; image: string; restartPolicy?: string; args: string[] }[];
    assert.deepEqual(initContainers.map((container) => container.name), ['weft-init', 'weft-proxy', 'migrate']);
    assert.equal(initContainers[1]?.image, PROXY_IMAGE);
    assert.equal(initContainers[1]?.restartPolicy, 'Always');
    assert.equal(initContainers[1]?.args[1], CONTROL_PLANE);
    assert.ok(initContainers[0]?.args.join(' ').includes('--exclude-outbound-ports 5432'));
  });

  it('writes to stdout without -o, and its own output comes back unchanged', async () => {
    const first = await run('-f', input);
    assert.equal(first.status, 0, first.stderr);
    const again = join(tmp, 'again.yaml');
    writeFileSync(again, first.stdout);
    const second = await run('-f', again);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(second.stdout, first.stdout, 'injecting twice equals injecting once');
    assert.match(second.stderr, /^unchanged: document 1, Deployment shop\/orders spec\.template: the pod already has its sidecar/);
  });

  it('reads stdin with -f - (as a process, with a pipe)', () => {
    const script = `const { injectCommand } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'inject-command.ts')).href)}); process.exitCode = await injectCommand.run(process.argv.slice(1));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, '--', '-f', '-', '--proxy-image', PROXY_IMAGE], { input: JOB, encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.equal(child.stderr, 'injected: document 1, Job shop/report spec.template\n');
    const [job] = readYamlDocuments(child.stdout);
    const initContainers = at(job, 'spec', 'template', 'spec', 'initContainers') as { name: string; image: string }[];
    assert.deepEqual(initContainers.map((container) => [container.name, container.image]), [['weft-init', PROXY_IMAGE], ['weft-proxy', PROXY_IMAGE]]);
  });

  it('fails without writing anything when a pod cannot be injected, naming file, line and annotation', async () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, DEPLOYMENT.replace('weft.dev/exclude-outbound-ports: "5432"', 'weft.dev/proxy-memory: "lots"'));
    const output = join(tmp, 'bad-out.yaml');
    const result = await run('-f', bad, '-o', output);
    assert.equal(result.status, 1);
    assert.equal(result.stderr, `weft inject: cannot inject:\n${bad}:13:32: document 1 (Deployment shop/orders): spec.template.metadata.annotations.weft.dev/proxy-memory: "lots" is not a positive Kubernetes quantity (examples: 128Mi, 1Gi)\n`);
    assert.equal(existsSync(output), false);
  });

  it('answers usage errors with exit 2 and the usage', async () => {
    const missing = await run('-o', 'x.yaml');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^weft inject: -f FILE is required \(- reads stdin\)\nusage: weft inject -f FILE/);
    const badFlag = await run('-f', input, '--proxy-image', 'not an image');
    assert.equal(badFlag.status, 2);
    assert.match(badFlag.stderr, /^weft inject: --proxy-image: "not an image" is not an image reference/);
    const unknown = await run('-f', input, '--namespace', 'x');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /Unknown option '--namespace'/);
    const absent = await run('-f', join(tmp, 'absent.yaml'));
    assert.equal(absent.status, 1);
    assert.match(absent.stderr, /ENOENT/);
  });
});
