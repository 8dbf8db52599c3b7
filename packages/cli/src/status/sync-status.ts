// Whether a proxy holds the configuration the control plane means it to hold, per resource type,
// as istioctl proxy-status says it:
//   SYNCED   the proxy ACKed the version last sent, and that is the current snapshot's version
//   STALE    sent but not (yet) ACKed, or the proxy holds an older version than the current one
//   NACKED   the proxy rejected the version last sent (and keeps an older one)
//   NOT SENT nothing of this type has been sent (not subscribed yet, or no snapshot yet)
import type { ProxyStatus, Rejection, TypeStatus } from '@weft/controlplane';

export type ResourceKind = keyof ProxyStatus['types'];

export type SyncState = 'SYNCED' | 'STALE' | 'NACKED' | 'NOT SENT';

export function classify(type: TypeStatus | undefined): SyncState {
  if (type?.sent === undefined) return 'NOT SENT';
  if (type.rejection !== undefined && type.rejection.version === type.sent) return 'NACKED';
  if (type.acked === type.sent && type.acked === type.current) return 'SYNCED';
  return 'STALE';
}

/** The resource types in the order the columns show them, with their column titles. */
export const RESOURCE_COLUMNS: readonly { readonly kind: ResourceKind; readonly title: string }[] = [
  { kind: 'cluster', title: 'CLUSTERS' },
  { kind: 'endpoints', title: 'ENDPOINTS' },
  { kind: 'listener', title: 'LISTENERS' },
  { kind: 'route', title: 'ROUTES' },
  { kind: 'accessPolicy', title: 'POLICIES' },
  { kind: 'trustBundle', title: 'TRUST BUNDLE' },
];

export interface TypeSync extends TypeStatus {
  readonly state: SyncState;
}

/** A proxy whose some type is not SYNCED, with what is wrong. */
export interface SyncProblem {
  readonly proxy: string;
  readonly kind: ResourceKind;
  readonly title: string;
  readonly state: Exclude<SyncState, 'SYNCED'>;
  readonly rejection: Rejection | undefined;
}

export function typeSyncs(proxy: ProxyStatus): Record<ResourceKind, TypeSync> {
  return Object.fromEntries(
    RESOURCE_COLUMNS.map(({ kind }) => {
      const type = proxy.types[kind];
      return [kind, { sent: type?.sent, acked: type?.acked, current: type?.current, rejection: type?.rejection, state: classify(type) }];
    }),
  ) as Record<ResourceKind, TypeSync>;
}

export function syncProblems(proxies: readonly ProxyStatus[]): SyncProblem[] {
  return proxies.flatMap((proxy) => {
    const syncs = typeSyncs(proxy);
    return RESOURCE_COLUMNS.flatMap(({ kind, title }) => {
      const { state, rejection } = syncs[kind];
      return state === 'SYNCED' ? [] : [{ proxy: proxy.id, kind, title, state, rejection: state === 'NACKED' ? rejection : undefined }];
    });
  });
}

/** Versions are content digests; a prefix is enough to tell them apart on screen. */
export function shortVersion(version: string | undefined): string {
  return version ? version.slice(0, 8) : '(none)';
}

/** "frontend.default ROUTES NACKED version 1a2b3c4d (keeps 5e6f7a8b): <reason>" */
export function describeProblem(problem: SyncProblem): string {
  const head = `${problem.proxy} ${problem.title} ${problem.state}`;
  if (!problem.rejection) return head;
  const { version, keeps, message } = problem.rejection;
  return `${head} version ${shortVersion(version)} (keeps ${shortVersion(keeps)}): ${message}`;
}
