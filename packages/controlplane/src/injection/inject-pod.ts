// Sidecar injection for one pod (or pod template: both are {metadata, spec}). The webhook and
// `weft inject` both call injectPod, so a pod comes out the same either way. The additions are
// computed once; the mutated pod and the JSON Patch are both derived from them, and a test
// checks that applying the patch to the input gives exactly the mutated pod.
import { Field, FieldError } from '../registry/field.ts';
import { INJECTOR_VERSION, type InjectionSettings } from './injection-settings.ts';
import { decideInjection, INJECTED_STATUS, type PodFacts, type SkipOutcome } from './injection-policy.ts';
import { jsonPointer, type JsonPatchOperation } from './json-patch.ts';
import { ANNOTATIONS, readSidecarOptions, type Annotations } from './pod-annotations.ts';
import { DEFAULT_GRACE_PERIOD_SECONDS, initContainer, proxyContainer, PROXY_PORTS, RESERVED_CONTAINER_NAMES, RESERVED_VOLUME_NAMES, sidecarVolumes, type KubeObject } from './sidecar-containers.ts';

export type InjectionOutcome = 'injected' | SkipOutcome;

export interface InjectionResult {
  readonly outcome: InjectionOutcome;
  /** Why the pod was left alone, in words an operator can act on; undefined when injected. */
  readonly reason: string | undefined;
  /** The pod after injection: a copy, never the input object. */
  readonly pod: KubeObject;
  /** RFC 6902 operations turning the input into `pod`; empty when nothing changes. */
  readonly patch: readonly JsonPatchOperation[];
}

export interface InjectionContext {
  /** The pod's namespace when its metadata lacks one (an AdmissionReview names it apart). */
  readonly namespace?: string;
}

const PROMETHEUS_PREFIX = 'prometheus.io/';

interface PodReading {
  readonly facts: PodFacts;
  readonly containers: readonly Field[];
  readonly volumes: readonly Field[];
  readonly hasMetadata: boolean;
  readonly hasAnnotations: boolean;
  readonly hasInitContainers: boolean;
  readonly hasVolumes: boolean;
  /** The pod's terminationGracePeriodSeconds (Kubernetes' default when absent). */
  readonly gracePeriodSeconds: number;
}

interface Additions {
  /** Put before the pod's own init containers, in this order. */
  readonly initContainers: readonly KubeObject[];
  /** Appended to the pod's volumes. */
  readonly volumes: readonly KubeObject[];
  readonly annotations: Readonly<Record<string, string>>;
}

function names(items: readonly Field[]): string[] {
  return items.map((item) => item.get('name').string());
}

function checkNotReserved(items: readonly Field[], reserved: readonly string[], what: string): void {
  for (const item of items) {
    const name = item.get('name');
    if (reserved.includes(name.string())) throw new FieldError(name.path, `"${name.string()}" is the name of Weft's ${what}; rename this one`);
  }
}

/** A pod that is not injected yet must not already use the names injection adds. */
function checkReservedNames(reading: PodReading): void {
  checkNotReserved(reading.containers, RESERVED_CONTAINER_NAMES, 'sidecar containers');
  checkNotReserved(reading.volumes, RESERVED_VOLUME_NAMES, 'sidecar volumes');
}

/** Reads what injection needs from an untrusted pod, failing with the path of the first bad field. */
function readPod(pod: unknown, context: InjectionContext): PodReading {
  const root = new Field(pod);
  const metadata = root.get('metadata');
  const spec = root.get('spec');
  if (!spec.present) spec.fail('required');
  const initContainers = spec.get('initContainers').list();
  const containers = spec.get('containers').nonEmptyList();
  const ephemeralContainers = spec.get('ephemeralContainers').list();
  const volumes = spec.get('volumes').list();
  const hostNetwork = spec.get('hostNetwork');
  const gracePeriod = spec.get('terminationGracePeriodSeconds');
  const allContainers = [...initContainers, ...containers, ...ephemeralContainers];
  return {
    facts: {
      // || rather than ??: an AdmissionReview may carry an empty namespace.
      namespace: context.namespace || metadata.get('namespace').optionalString(),
      labels: metadata.get('labels').stringMap(),
      annotations: metadata.get('annotations').stringMap(),
      hostNetwork: hostNetwork.present ? hostNetwork.boolean() : false,
      containerNames: names(allContainers),
    },
    containers: allContainers,
    volumes,
    hasMetadata: metadata.present,
    hasAnnotations: metadata.get('annotations').present,
    hasInitContainers: spec.get('initContainers').present,
    hasVolumes: spec.get('volumes').present,
    gracePeriodSeconds: gracePeriod.present && gracePeriod.value !== null ? gracePeriod.integer(0, Number.MAX_SAFE_INTEGER) : DEFAULT_GRACE_PERIOD_SECONDS,
  };
}

function annotationAdditions(existing: Annotations): Record<string, string> {
  const added: Record<string, string> = { [ANNOTATIONS.status]: INJECTED_STATUS, [ANNOTATIONS.injectorVersion]: INJECTOR_VERSION };
  // Scrape the proxy's metrics, unless the pod already says how it wants to be scraped: adding
  // our port or path beside the user's would point their scrape config somewhere else.
  if (!Object.keys(existing).some((key) => key.startsWith(PROMETHEUS_PREFIX))) {
    added['prometheus.io/scrape'] = 'true';
    added['prometheus.io/port'] = String(PROXY_PORTS.stats);
    added['prometheus.io/path'] = '/stats/prometheus';
  }
  return added;
}

function additionsPatch(reading: PodReading, additions: Additions): JsonPatchOperation[] {
  const patch: JsonPatchOperation[] = [];
  // A missing (or null) array is added whole; into an existing one, each item is inserted at
  // its place, so concurrent edits of other items are not overwritten.
  if (!reading.hasInitContainers) patch.push({ op: 'add', path: '/spec/initContainers', value: additions.initContainers });
  else additions.initContainers.forEach((container, index) => patch.push({ op: 'add', path: jsonPointer(['spec', 'initContainers', index]), value: container }));
  if (!reading.hasVolumes) patch.push({ op: 'add', path: '/spec/volumes', value: additions.volumes });
  else for (const volume of additions.volumes) patch.push({ op: 'add', path: '/spec/volumes/-', value: volume });
  if (!reading.hasMetadata) patch.push({ op: 'add', path: '/metadata', value: { annotations: additions.annotations } });
  else if (!reading.hasAnnotations) patch.push({ op: 'add', path: '/metadata/annotations', value: additions.annotations });
  else for (const [key, value] of Object.entries(additions.annotations)) patch.push({ op: 'add', path: jsonPointer(['metadata', 'annotations', key]), value });
  return patch;
}

function withAdditions(pod: KubeObject, additions: Additions): KubeObject {
  const copy = structuredClone(pod);
  const spec = copy.spec as KubeObject;
  spec.initContainers = [...structuredClone(additions.initContainers), ...((spec.initContainers as unknown[] | null | undefined) ?? [])];
  spec.volumes = [...((spec.volumes as unknown[] | null | undefined) ?? []), ...structuredClone(additions.volumes)];
  const metadata = (copy.metadata as KubeObject | null | undefined) ?? {};
  // Spreading null or undefined adds nothing.
  metadata.annotations = { ...(metadata.annotations as Annotations | null | undefined), ...additions.annotations };
  copy.metadata = metadata;
  return copy;
}

/**
 * Adds Weft's sidecar to `pod` unless a rule says no (see injection-policy.ts); the outcome
 * says which. Throws FieldError, naming the field or annotation, when the pod is malformed or
 * asks for something invalid.
 */
export function injectPod(pod: unknown, settings: InjectionSettings, context: InjectionContext = {}): InjectionResult {
  const reading = readPod(pod, context);
  const decision = decideInjection(reading.facts, settings);
  if (!decision.inject) return { outcome: decision.outcome, reason: decision.reason, pod: structuredClone(pod as KubeObject), patch: [] };
  checkReservedNames(reading);
  const options = readSidecarOptions(reading.facts.annotations, settings);
  const additions: Additions = {
    initContainers: [initContainer(settings, options.capture), proxyContainer(settings, options, reading.gracePeriodSeconds)],
    volumes: sidecarVolumes(),
    annotations: annotationAdditions(reading.facts.annotations),
  };
  return { outcome: 'injected', reason: undefined, pod: withAdditions(pod as KubeObject, additions), patch: additionsPatch(reading, additions) };
}
