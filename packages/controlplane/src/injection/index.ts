// Sidecar injection: one mutation (injectPod) behind the admission webhook and `weft inject`.
export { injectPod, type InjectionContext, type InjectionOutcome, type InjectionResult } from './inject-pod.ts';
export {
  DEFAULT_INJECTION_SETTINGS,
  DEFAULT_PROXY_IMAGE,
  INJECTOR_VERSION,
  InjectionSettingsError,
  resolveInjectionSettings,
  SETTING_FLAGS,
  type InjectionSettings,
  type ProxyResources,
  type ResourceAmounts,
} from './injection-settings.ts';
export { ANNOTATIONS } from './pod-annotations.ts';
export { INJECTED_STATUS } from './injection-policy.ts';
export { INIT_CONTAINER_NAME, PROXY_CONTAINER_NAME, PROXY_UID, TOKEN_AUDIENCE, ROOT_CERT_CONFIG_MAP } from './sidecar-containers.ts';
export { applyJsonPatch, jsonPointer, JsonPatchError, type JsonPatchOperation } from './json-patch.ts';
export { ADMISSION_API_VERSION, MalformedReviewError, reviewAdmission, type AdmissionResponse, type AdmissionReviewResponse, type ReviewResult } from './admission-review.ts';
export { createInjectionWebhook, DEFAULT_MAX_REVIEW_BYTES, INJECTION_PATH, type InjectionWebhookOptions, type InjectionWebhookServer } from './webhook-server.ts';
export { injectManifest, ManifestError, POD_TEMPLATE_PATHS, type InjectedManifest, type ManifestInjection } from './manifest.ts';
