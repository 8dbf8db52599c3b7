// Writes each Weft custom resource's verdict to its status, the way Gateway API and Istio
// controllers do: `status.conditions[type=Accepted]` (True/False, a reason, a message an
// operator can act on) and `observedGeneration`. A write happens only when the status on the
// object differs from the verdict, so the watch event a write causes ends there; and only while
// `enabled()` says so (the replica holding the leader lease).
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { WEFT_API_VERSION } from '../resources/object-meta.ts';
import { CUSTOM_RESOURCE_PLURALS, resourceKey, type CustomResourceObject, type Verdict } from '../registry/kubernetes/custom-resources.ts';
import type { JudgedResource } from '../registry/kubernetes/kubernetes-registry.ts';
import { describeError } from './api-errors.ts';

const [GROUP, VERSION] = WEFT_API_VERSION.split('/') as [string, string];

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
}

export interface ResourceStatus {
  readonly observedGeneration?: number;
  readonly conditions: readonly Condition[];
}

function acceptedCondition(status: unknown): Condition | undefined {
  const conditions = (status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(conditions) ? (conditions as Condition[]).find((condition) => condition?.type === 'Accepted') : undefined;
}

/** The status `verdict` calls for, or undefined when the object already shows it. */
export function statusFor(object: CustomResourceObject, verdict: Verdict, now: Date): ResourceStatus | undefined {
  const status = verdict.accepted ? 'True' : 'False';
  const current = acceptedCondition(object.status);
  const observed = (object.status as { observedGeneration?: number } | undefined)?.observedGeneration;
  if (current && current.status === status && current.reason === verdict.reason && current.message === verdict.message && current.observedGeneration === verdict.generation && observed === verdict.generation) {
    return undefined;
  }
  // The transition time moves only when the condition's status does.
  const lastTransitionTime = current?.status === status ? current.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z');
  const others = ((object.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).filter((condition) => condition?.type !== 'Accepted');
  return {
    observedGeneration: verdict.generation,
    conditions: [...others, { type: 'Accepted', status, reason: verdict.reason, message: verdict.message, observedGeneration: verdict.generation, lastTransitionTime }],
  };
}

export class StatusWriter {
  private readonly api: CustomObjectsApi;
  private readonly log: Logger;
  private readonly enabled: () => boolean;
  /** What was last written per resource (by key and resourceVersion), so a write is not repeated before its watch event arrives. */
  private readonly written = new Map<string, string>();
  private queue: Promise<void> = Promise.resolve();
  writes = 0;
  failures = 0;

  constructor(options: { kubeConfig: KubeConfig; log: Logger; enabled: () => boolean }) {
    this.api = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.log = options.log.child({ module: 'status' });
    this.enabled = options.enabled;
  }

  /** Brings every resource's status in line with its verdict (in the background, one write at a time). */
  reconcile(resources: readonly JudgedResource[]): void {
    if (!this.enabled()) return;
    const now = new Date();
    for (const { kind, object, verdict } of resources) {
      const status = statusFor(object, verdict, now);
      const { name = '', namespace = '' } = object.metadata ?? {};
      const key = resourceKey(kind, namespace, name);
      if (!status) {
        this.written.delete(key);
        continue;
      }
      const fingerprint = `${(object.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? ''} ${JSON.stringify(status.conditions.map(({ lastTransitionTime: _, ...rest }) => rest))}`;
      if (this.written.get(key) === fingerprint) continue;
      this.written.set(key, fingerprint);
      this.queue = this.queue.then(() => this.write(kind, namespace, name, key, status));
    }
  }

  /** Settles once the writes queued so far are done. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async write(kind: keyof typeof CUSTOM_RESOURCE_PLURALS, namespace: string, name: string, key: string, status: ResourceStatus): Promise<void> {
    if (!this.enabled()) return;
    try {
      await this.api.patchNamespacedCustomObjectStatus({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: CUSTOM_RESOURCE_PLURALS[kind],
        name,
        // A JSON patch (client-node's default patch type): `add` sets /status whether or not it exists.
        body: [{ op: 'add', path: '/status', value: status }],
      });
      this.writes++;
    } catch (error) {
      this.failures++;
      this.written.delete(key);
      this.log.warn({ resource: key, error: describeError(error) }, 'status write failed; retried on the next change or resync');
    }
  }
}
