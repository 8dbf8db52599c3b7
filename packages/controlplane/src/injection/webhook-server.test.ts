// The injection webhook as the API server calls it: AdmissionReview v1 over HTTPS, the server
// certificate issued by a Weft CA for the webhook Service's DNS name and verified by the client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AdmissionReviewResponse } from './admission-review.ts';
import { injectPod } from './inject-pod.ts';
import { applyJsonPatch, type JsonPatchOperation } from './json-patch.ts';
import { admissionReview, samplePod, type Pod } from './testing/fixtures.ts';
import { issueWebhookCertificate, startTestWebhook, type TestWebhook } from './testing/https-webhook.ts';

type Container = { name: string; restartPolicy?: string; securityContext?: Record<string, unknown> };

describe('injection webhook over HTTPS', () => {
  let webhook: TestWebhook;
  before(async () => {
    webhook = await startTestWebhook({ settings: { proxyImage: 'registry.example/weft-proxy:0.1.0' }, maxReviewBytes: 64 * 1024 });
  });
  after(() => webhook.close());

  /** Posts a review for `pod`; returns the response and its decoded patch (empty when absent). */
  async function review(pod: unknown, options: { namespace?: string } = {}): Promise<{ response: AdmissionReviewResponse['response']; patch: JsonPatchOperation[]; uid: string }> {
    const body = admissionReview(pod, options);
    const answer = await webhook.send(body);
    assert.equal(answer.status, 200, answer.body);
    assert.match(String(answer.headers['content-type']), /^application\/json/);
    const parsed = JSON.parse(answer.body) as AdmissionReviewResponse;
    assert.equal(parsed.apiVersion, 'admission.k8s.io/v1');
    assert.equal(parsed.kind, 'AdmissionReview');
    const uid = (body.request as { uid: string }).uid;
    assert.equal(parsed.response.uid, uid);
    assert.equal(parsed.response.allowed, true);
    if (parsed.response.patch === undefined) {
      assert.equal(parsed.response.patchType, undefined);
      return { response: parsed.response, patch: [], uid };
    }
    assert.equal(parsed.response.patchType, 'JSONPatch');
    return { response: parsed.response, patch: JSON.parse(Buffer.from(parsed.response.patch, 'base64').toString('utf8')) as JsonPatchOperation[], uid };
  }

  it('answers a pod creation with a JSON Patch that yields the injected pod', async () => {
    const pod = samplePod();
    const { patch } = await review(pod);
    const injected = applyJsonPatch(pod, patch);
    assert.deepEqual(injected, injectPod(pod, webhook.settings, { namespace: 'shop' }).pod, 'the webhook and injectPod agree');

    const spec = injected.spec as { initContainers: Container[]; containers: Container[]; volumes: { name: string; projected?: { sources: { serviceAccountToken: Record<string, unknown> }[] } }[] };
    assert.deepEqual(spec.initContainers.map((container) => container.name), ['weft-init', 'weft-proxy', 'migrate']);
    assert.deepEqual(spec.containers.map((container) => container.name), ['app']);
    const [init, proxy] = spec.initContainers as [Container, Container];
    assert.equal(proxy.restartPolicy, 'Always');
    assert.deepEqual(init.securityContext?.capabilities, { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] });
    assert.equal(init.securityContext?.runAsUser, 0);
    assert.equal(proxy.securityContext?.runAsUser, 1337);
    assert.equal(proxy.securityContext?.runAsNonRoot, true);
    assert.deepEqual(proxy.securityContext?.capabilities, { drop: ['ALL'] });
    const token = spec.volumes.find((volume) => volume.name === 'weft-token');
    assert.deepEqual(token?.projected?.sources[0]?.serviceAccountToken, { audience: 'weft-ca', expirationSeconds: 43200, path: 'weft-ca-token' });
    const annotations = (injected.metadata as { annotations: Record<string, string> }).annotations;
    assert.equal(annotations['weft.dev/status'], 'injected');
    assert.equal(annotations['prometheus.io/scrape'], 'true');
    assert.equal(annotations['prometheus.io/port'], '15090');
    assert.equal(annotations['prometheus.io/path'], '/stats/prometheus');
  });

  it('is idempotent: the injected pod comes back without a patch', async () => {
    const pod = samplePod();
    const once = applyJsonPatch(pod, (await review(pod)).patch);
    const second = await review(once);
    assert.deepEqual(second.patch, []);
    assert.deepEqual(applyJsonPatch(once, second.patch), once);
  });

  it('honours the opt-out annotation and label: allowed, no patch', async () => {
    assert.deepEqual((await review(samplePod({ annotations: { 'weft.dev/inject': 'false' } }))).patch, []);
    assert.deepEqual((await review(samplePod({ labels: { 'weft.dev/inject': 'false' } }))).patch, []);
  });

  it('leaves hostNetwork pods alone', async () => {
    assert.deepEqual((await review(samplePod({ spec: { hostNetwork: true } }))).patch, []);
  });

  it('gives a Job\'s pod the native sidecar, so the Job can complete', async () => {
    const jobPod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { generateName: 'report-', labels: { 'job-name': 'report' }, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'report', uid: 'abc', controller: true }] },
      spec: { restartPolicy: 'Never', containers: [{ name: 'report', image: 'report:1' }] },
    };
    const injected = applyJsonPatch(jobPod, (await review(jobPod, { namespace: 'batch' })).patch);
    const spec = injected.spec as { restartPolicy: string; initContainers: Container[]; containers: Container[] };
    assert.deepEqual(spec.initContainers.map((container) => [container.name, container.restartPolicy]), [['weft-init', undefined], ['weft-proxy', 'Always']]);
    assert.deepEqual(spec.containers.map((container) => container.name), ['report'], 'no long-running main container is added');
    assert.equal(spec.restartPolicy, 'Never');
  });

  it('admits a pod with a bad weft.dev/proxy-cpu annotation, without a patch, with a warning', async () => {
    const { response, patch } = await review(samplePod({ annotations: { 'weft.dev/proxy-cpu': 'two cores' } }));
    assert.deepEqual(patch, []);
    assert.equal(response.warnings?.length, 1);
    assert.match(response.warnings?.[0] ?? '', /^weft: sidecar not injected: metadata\.annotations\.weft\.dev\/proxy-cpu: "two cores" is not a positive Kubernetes quantity/);
  });

  it('answers 400 to a malformed review or a body that is not JSON', async () => {
    const notReview = await webhook.send({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: { kind: 'Pod' }, operation: 'CREATE', object: samplePod() } });
    assert.equal(notReview.status, 400);
    assert.deepEqual(JSON.parse(notReview.body), { error: 'malformed AdmissionReview: request.uid: required' });
    const notJson = await webhook.send('{"apiVersion": ');
    assert.equal(notJson.status, 400);
    assert.match((JSON.parse(notJson.body) as { error: string }).error, /^malformed AdmissionReview: the body is not JSON/);
  });

  it('answers 404 to anything but POST /inject', async () => {
    assert.equal((await webhook.send('', { method: 'GET', path: '/inject' })).status, 404);
    assert.equal((await webhook.send(admissionReview(samplePod()), { path: '/mutate' })).status, 404);
    assert.equal((await webhook.send('', { method: 'GET', path: '/' })).status, 404);
  });

  it('answers 413 to a review above the size limit', async () => {
    const huge = admissionReview(samplePod({ annotations: { filler: 'x'.repeat(100 * 1024) } }));
    const declared = await webhook.send(huge);
    assert.equal(declared.status, 413);
    assert.match(declared.body, /larger than 65536 bytes/);
    const streamed = await webhook.send(huge, { chunked: true });
    assert.equal(streamed.status, 413, 'also when the size is only known while reading');
    assert.equal(streamed.headers.connection, 'close');
    const small = await webhook.send(admissionReview(samplePod()), { chunked: true });
    assert.equal(small.status, 200, 'a chunked review within the limit is answered');
  });

  it('serves a replaced certificate from the next connection on', async () => {
    const first = await webhook.send('', { method: 'GET', path: '/' });
    const renewed = await issueWebhookCertificate(webhook.ca);
    assert.notEqual(renewed.serial, first.serverSerial);
    webhook.server.setCertificate(renewed.key, renewed.chain);
    const second = await webhook.send(admissionReview(samplePod()));
    assert.equal(second.status, 200);
    assert.equal(second.serverSerial, renewed.serial);
  });
});
