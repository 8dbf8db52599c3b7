// Lease-based leader election (coordination.k8s.io/v1), as client-go's leaderelection does it:
// the holder renews the Lease every `retryMs`; another replica takes it over only once it has
// gone unrenewed for `leaseMs`. Updates carry the resourceVersion read, so two replicas racing
// for an expired Lease cannot both win (one gets 409 Conflict). Expiry is judged by our own clock
// (when we last saw the record change), never by comparing another node's renewTime with ours,
// so clock skew between nodes does not matter. Only the leader writes CR status;
// every replica serves xDS either way.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError, statusCode } from './api-errors.ts';

export interface LeaderElectionOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  /** This replica, e.g. its pod name. */
  readonly identity: string;
  readonly log: Logger;
  /** How long a Lease stays valid unrenewed; default 15 s. */
  readonly leaseMs?: number;
  /** How often to renew or try to acquire; default 5 s. */
  readonly retryMs?: number;
  readonly onChange?: (leader: boolean) => void;
}

export class LeaderElection {
  private readonly options: LeaderElectionOptions;
  private readonly api: CoordinationV1Api;
  private readonly log: Logger;
  private readonly leaseMs: number;
  private readonly retryMs: number;
  private leader = false;
  /** When our last successful renewal happened. */
  private renewedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private attempt: Promise<void> = Promise.resolve();
  /** The other holder's record as last seen, and when (our clock) it last changed. */
  private observed = { record: '', at: 0 };

  constructor(options: LeaderElectionOptions) {
    this.options = options;
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.log = options.log.child({ module: 'leader-election', lease: `${options.namespace}/${options.name}` });
    this.leaseMs = options.leaseMs ?? 15_000;
    this.retryMs = options.retryMs ?? 5_000;
  }

  isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    this.stopped = false;
    this.tick();
  }

  /** Stops renewing; a held Lease is released so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.attempt;
    if (!this.leader) return;
    this.setLeader(false);
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity === this.options.identity) {
        await this.replace({ ...lease, spec: { ...lease.spec, holderIdentity: undefined, renewTime: undefined, acquireTime: undefined } });
      }
    } catch (error) {
      this.log.warn({ error: describeError(error) }, 'could not release the lease; it expires by itself');
    }
  }

  private tick(): void {
    this.attempt = this.tryAcquireOrRenew().finally(() => {
      if (!this.stopped) this.timer = setTimeout(() => this.tick(), this.retryMs);
    });
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const { identity } = this.options;
    const now = Date.now();
    try {
      const lease = await this.read();
      if (!lease) {
        await this.api.createNamespacedLease({ namespace: this.options.namespace, body: this.leaseBody(undefined, now, 0) });
        this.renewed(now);
        return;
      }
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity;
      const record = `${holder ?? ''} ${spec.renewTime ? new Date(spec.renewTime).toISOString() : ''}`;
      if (record !== this.observed.record) this.observed = { record, at: now };
      const duration = (spec.leaseDurationSeconds ?? this.leaseMs / 1000) * 1000;
      const expired = !holder || this.observed.at + duration < now;
      if (holder !== identity && !expired) {
        this.setLeader(false);
        return;
      }
      const transitions = (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
      await this.replace(this.leaseBody(lease, now, transitions, holder === identity ? spec.acquireTime : undefined));
      this.renewed(now);
    } catch (error) {
      // 409: another replica wrote first; anything else: the API server is unwell. Either way we
      // hold the lease only as long as our last renewal is valid.
      if (statusCode(error) !== 409) this.log.warn({ error: describeError(error) }, 'lease update failed');
      if (this.leader && Date.now() - this.renewedAt > this.leaseMs) this.setLeader(false);
    }
  }

  private renewed(now: number): void {
    this.renewedAt = now;
    this.setLeader(true);
  }

  private setLeader(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.log.info({ identity: this.options.identity }, leader ? 'became leader' : 'no longer leader');
    this.options.onChange?.(leader);
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.api.readNamespacedLease({ name: this.options.name, namespace: this.options.namespace });
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw error;
    }
  }

  private replace(body: V1Lease): Promise<V1Lease> {
    return this.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body });
  }

  private leaseBody(existing: V1Lease | undefined, now: number, transitions: number, acquireTime?: Date): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...(existing?.metadata ?? {}), name: this.options.name, namespace: this.options.namespace },
      spec: {
        holderIdentity: this.options.identity,
        leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
        acquireTime: acquireTime ?? new V1MicroTime(now),
        renewTime: new V1MicroTime(now),
        leaseTransitions: transitions,
      },
    };
  }
}
