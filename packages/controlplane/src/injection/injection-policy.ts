// Which pods get a sidecar. Istio's rules, with Weft's names:
//
// - Selection happens before the injector runs. The MutatingWebhookConfiguration sends pods of
//   namespaces labelled `weft-injection=enabled`; it may also send pods labelled
//   `weft.dev/inject: "true"` from other namespaces (an objectSelector sees labels only, so that
//   opt-in must be a label). `weft inject` is an explicit request. Either way, a pod that
//   reaches the injector is injected unless a rule below says no.
// - `weft.dev/inject: "false"`, as a label or an annotation, opts a pod out (the label wins
//   when both are set, as in Istio). "true" is accepted and changes nothing here; any other
//   value is an error rather than a guess, since a typo must not silently add or omit a proxy.
// - hostNetwork pods are never injected: capture rules would be written into the node's own
//   network namespace.
// - Pods in the settings' neverInjectNamespaces (kube-system, kube-public, kube-node-lease,
//   weft-system) are never injected, whatever their labels say.
// - A pod that already has its sidecar (the `weft.dev/status` marker, or a `weft-proxy`
//   container) is left as it is: injecting twice equals injecting once.
import { FieldError } from '../registry/field.ts';
import type { InjectionSettings } from './injection-settings.ts';
import { ANNOTATIONS, type Annotations } from './pod-annotations.ts';
import { PROXY_CONTAINER_NAME } from './sidecar-containers.ts';

export type SkipOutcome = 'already-injected' | 'host-network' | 'never-injected-namespace' | 'opted-out';

export interface PodFacts {
  readonly namespace: string | undefined;
  readonly labels: Annotations;
  readonly annotations: Annotations;
  readonly hostNetwork: boolean;
  /** Names of every container: init (sidecars included), main and ephemeral. */
  readonly containerNames: readonly string[];
}

export type InjectionDecision = { readonly inject: true } | { readonly inject: false; readonly outcome: SkipOutcome; readonly reason: string };

export const INJECTED_STATUS = 'injected';

function injectSwitch(values: Annotations, where: 'labels' | 'annotations'): boolean | undefined {
  const value = values[ANNOTATIONS.inject];
  if (value === undefined) return undefined;
  const normalised = value.trim().toLowerCase();
  if (normalised === 'true') return true;
  if (normalised === 'false') return false;
  throw new FieldError(['metadata', where, ANNOTATIONS.inject], `"${value}" must be "true" or "false"`);
}

export function decideInjection(pod: PodFacts, settings: InjectionSettings): InjectionDecision {
  // Checked first so a bad value is reported even on pods skipped for another reason.
  const label = injectSwitch(pod.labels, 'labels');
  const annotation = injectSwitch(pod.annotations, 'annotations');
  if (pod.annotations[ANNOTATIONS.status] === INJECTED_STATUS || pod.containerNames.includes(PROXY_CONTAINER_NAME)) {
    return { inject: false, outcome: 'already-injected', reason: `the pod already has its sidecar (${ANNOTATIONS.status}: ${INJECTED_STATUS}, or a ${PROXY_CONTAINER_NAME} container)` };
  }
  if (pod.hostNetwork) {
    return { inject: false, outcome: 'host-network', reason: 'the pod uses the host network (spec.hostNetwork); capture would redirect the node\'s traffic, so it is never injected' };
  }
  if (pod.namespace !== undefined && settings.neverInjectNamespaces.includes(pod.namespace)) {
    return { inject: false, outcome: 'never-injected-namespace', reason: `pods in namespace ${pod.namespace} are never injected` };
  }
  const optedIn = label ?? annotation;
  if (optedIn === false) {
    return { inject: false, outcome: 'opted-out', reason: `the pod opts out (${label === false ? 'label' : 'annotation'} ${ANNOTATIONS.inject}: "false")` };
  }
  return { inject: true };
}
