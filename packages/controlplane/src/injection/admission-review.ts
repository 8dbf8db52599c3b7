// AdmissionReview v1 (admission.k8s.io/v1) in and out: the API server's question about a pod
// being created, and the webhook's answer with a base64 JSON Patch. Transport-free; the HTTPS
// server is webhook-server.ts.
import { Field, FieldError } from '../registry/field.ts';
import { injectPod, type InjectionOutcome } from './inject-pod.ts';
import type { InjectionSettings } from './injection-settings.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: true;
  readonly patchType?: 'JSONPatch';
  /** base64 of the JSON Patch; absent when nothing changes. */
  readonly patch?: string;
  /** Shown to the client that created the pod (kubectl, or a controller's log). */
  readonly warnings?: readonly string[];
}

export interface AdmissionReviewResponse {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

/** What happened to a review, for the log: an injection outcome, or why injection was not tried or failed. */
export type ReviewOutcome = InjectionOutcome | 'not-a-pod-creation' | 'not-injectable';

export interface ReviewResult {
  readonly review: AdmissionReviewResponse;
  readonly outcome: ReviewOutcome;
  /** Namespace and name (or generateName) of the pod, when there is one. */
  readonly pod: string | undefined;
  readonly reason: string | undefined;
}

/** The body is not an AdmissionReview v1 request; the webhook answers 400 with this message. */
export class MalformedReviewError extends Error {
  constructor(cause: FieldError) {
    super(`malformed AdmissionReview: ${cause.message}`);
    this.name = 'MalformedReviewError';
  }
}

interface ReviewRequest {
  readonly uid: string;
  readonly isPodCreation: boolean;
  readonly namespace: string | undefined;
  readonly object: unknown;
}

function readRequest(body: unknown): ReviewRequest {
  try {
    const review = new Field(body);
    review.get('apiVersion').choice([ADMISSION_API_VERSION]);
    review.get('kind').choice(['AdmissionReview']);
    const request = review.get('request');
    if (!request.present) request.fail('required');
    const kind = request.get('kind');
    const group = kind.get('group').value ?? '';
    const isPodCreation = group === '' && kind.get('kind').string() === 'Pod' && request.get('operation').string() === 'CREATE';
    const object = request.get('object');
    if (isPodCreation && !object.present) object.fail('required for a pod creation');
    const namespace = request.get('namespace').value;
    return { uid: request.get('uid').string(), isPodCreation, namespace: typeof namespace === 'string' && namespace !== '' ? namespace : undefined, object: object.value };
  } catch (error) {
    if (error instanceof FieldError) throw new MalformedReviewError(error);
    throw error;
  }
}

function podName(object: unknown, namespace: string | undefined): string | undefined {
  const metadata = (object as { metadata?: { name?: unknown; generateName?: unknown; namespace?: unknown } } | undefined)?.metadata;
  const name = typeof metadata?.name === 'string' && metadata.name !== '' ? metadata.name : typeof metadata?.generateName === 'string' ? `${metadata.generateName}*` : undefined;
  const ns = namespace ?? (typeof metadata?.namespace === 'string' ? metadata.namespace : undefined);
  return name === undefined ? undefined : `${ns ?? '(no namespace)'}/${name}`;
}

function answer(uid: string, fields: Omit<AdmissionResponse, 'uid' | 'allowed'> = {}): AdmissionReviewResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response: { uid, allowed: true, ...fields } };
}

/**
 * Answers one AdmissionReview. Always allows: a pod that cannot be injected is admitted
 * without a sidecar and with a warning. Refusing it would turn a typo in an annotation into
 * pods that never start; a pod without a sidecar gains nothing, since STRICT peers refuse its
 * plaintext. Whether pods may be created while the webhook itself is down or failing is the
 * cluster's choice, the webhook configuration's failurePolicy, not this code's.
 *
 * Throws MalformedReviewError for a body that is not an AdmissionReview v1 request.
 */
export function reviewAdmission(body: unknown, settings: InjectionSettings): ReviewResult {
  const request = readRequest(body);
  const pod = podName(request.object, request.namespace);
  if (!request.isPodCreation) {
    // Only pod creations are mutated: a pod's containers cannot change after it exists.
    return { review: answer(request.uid), outcome: 'not-a-pod-creation', pod, reason: 'not a pod creation' };
  }
  let result: ReturnType<typeof injectPod>;
  try {
    result = injectPod(request.object, settings, { namespace: request.namespace });
  } catch (error) {
    if (!(error instanceof FieldError)) throw error;
    return {
      review: answer(request.uid, { warnings: [`weft: sidecar not injected: ${error.message}`] }),
      outcome: 'not-injectable',
      pod,
      reason: error.message,
    };
  }
  if (result.patch.length === 0) return { review: answer(request.uid), outcome: result.outcome, pod, reason: result.reason };
  const patch = Buffer.from(JSON.stringify(result.patch)).toString('base64');
  return { review: answer(request.uid, { patchType: 'JSONPatch', patch }), outcome: result.outcome, pod, reason: result.reason };
}
