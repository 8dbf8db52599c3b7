import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedReviewError, reviewAdmission } from './admission-review.ts';
import { resolveInjectionSettings } from './injection-settings.ts';
import { admissionReview, samplePod } from './testing/fixtures.ts';

const settings = resolveInjectionSettings();

function malformed(body: unknown): string {
  try {
    reviewAdmission(body, settings);
  } catch (error) {
    assert.ok(error instanceof MalformedReviewError, String(error));
    return error.message;
  }
  assert.fail('accepted');
}

describe('reviewAdmission', () => {
  it('answers a pod creation with the same uid, allowed, and a base64 JSON Patch', () => {
    const result = reviewAdmission(admissionReview(samplePod(), { uid: 'b2a5c2f0-1111-2222-3333-444455556666' }), settings);
    assert.equal(result.outcome, 'injected');
    assert.equal(result.pod, 'shop/orders-7d9f8-*');
    const { apiVersion, kind, response } = result.review;
    assert.equal(apiVersion, 'admission.k8s.io/v1');
    assert.equal(kind, 'AdmissionReview');
    assert.equal(response.uid, 'b2a5c2f0-1111-2222-3333-444455556666');
    assert.equal(response.allowed, true);
    assert.equal(response.patchType, 'JSONPatch');
    const patch = JSON.parse(Buffer.from(response.patch ?? '', 'base64').toString('utf8')) as { op: string }[];
    assert.ok(patch.length > 0 && patch.every((operation) => operation.op === 'add'));
  });

  it('uses the review\'s namespace (a new pod\'s metadata often has none)', () => {
    const pod = samplePod();
    delete (pod.metadata as Record<string, unknown>).namespace;
    assert.equal(reviewAdmission(admissionReview(pod, { namespace: 'kube-system' }), settings).outcome, 'never-injected-namespace');
  });

  it('allows without a patch what it does not mutate: other kinds, other operations, skipped pods', () => {
    const cases = [
      admissionReview({ metadata: { name: 'x' }, data: {} }, { kind: 'ConfigMap' }),
      admissionReview(samplePod(), { operation: 'UPDATE' }),
      admissionReview(null, { operation: 'DELETE' }),
      admissionReview(samplePod({ annotations: { 'weft.dev/inject': 'false' } })),
    ];
    for (const review of cases) {
      const { response } = reviewAdmission(review, settings).review;
      assert.deepEqual(Object.keys(response).sort(), ['allowed', 'uid'], JSON.stringify(review).slice(0, 120));
      assert.equal(response.allowed, true);
    }
  });

  it('admits a pod it cannot inject, without a patch, with a warning naming the annotation', () => {
    const result = reviewAdmission(admissionReview(samplePod({ annotations: { 'weft.dev/proxy-cpu': 'lots' } })), settings);
    assert.equal(result.outcome, 'not-injectable');
    assert.deepEqual(result.review.response.warnings, ['weft: sidecar not injected: metadata.annotations.weft.dev/proxy-cpu: "lots" is not a positive Kubernetes quantity (examples: 100m, 0.5, 2)']);
    assert.equal(result.review.response.patch, undefined);
    assert.equal(result.review.response.allowed, true);
  });

  it('refuses what is not an AdmissionReview v1 request, naming the field', () => {
    assert.equal(malformed('text'), 'malformed AdmissionReview: (document): expected a mapping, got "text"');
    assert.equal(malformed({ ...admissionReview(samplePod()), apiVersion: 'admission.k8s.io/v1beta1' }), 'malformed AdmissionReview: apiVersion: "admission.k8s.io/v1beta1" is not one of admission.k8s.io/v1');
    assert.equal(malformed({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }), 'malformed AdmissionReview: request: required');
    const withoutUid = admissionReview(samplePod()) as { request: Record<string, unknown> };
    delete withoutUid.request.uid;
    assert.equal(malformed(withoutUid), 'malformed AdmissionReview: request.uid: required');
    const withoutObject = admissionReview(samplePod()) as { request: Record<string, unknown> };
    delete withoutObject.request.object;
    assert.equal(malformed(withoutObject), 'malformed AdmissionReview: request.object: required for a pod creation');
  });
});
