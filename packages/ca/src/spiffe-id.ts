// SPIFFE IDs of workloads: spiffe://<trust domain>/ns/<namespace>/sa/<service account>.
// Parsing is strict on purpose: an ID is compared as a string everywhere else (authorization,
// peer verification), so two spellings of one identity must not both be accepted.
import { CaError } from './ca-error.ts';

export interface WorkloadIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
}

// SPIFFE spec: trust domain = lowercase letters, digits, '.', '-', '_' (at most 255);
// path segments = letters, digits, '.', '-', '_' (never '.' or '..').
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
const SEGMENT = /^[A-Za-z0-9._-]{1,253}$/;
const WORKLOAD_ID = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/;
const TRUST_DOMAIN_ID = /^spiffe:\/\/([^/]+)$/;

export function isTrustDomain(value: string): boolean {
  return TRUST_DOMAIN.test(value);
}

function isSegment(value: string): boolean {
  return SEGMENT.test(value) && value !== '.' && value !== '..';
}

export function assertTrustDomain(value: string): void {
  if (!isTrustDomain(value)) {
    throw new CaError('WEFT_ERR_IDENTITY', `trust domain ${JSON.stringify(value)} is invalid: use lowercase letters, digits, ".", "-" and "_" (for example cluster.local)`);
  }
}

export function spiffeId(trustDomain: string, identity: WorkloadIdentity): string {
  assertTrustDomain(trustDomain);
  for (const [what, value] of [['namespace', identity.namespace], ['service account', identity.serviceAccount]] as const) {
    // A "/" here would let one identity spell another's ID ("a/sa/b"), so refuse, never escape.
    if (!isSegment(value)) throw new CaError('WEFT_ERR_IDENTITY', `${what} ${JSON.stringify(value)} cannot be part of a SPIFFE ID: use letters, digits, ".", "-" and "_"`);
  }
  return `spiffe://${trustDomain}/ns/${identity.namespace}/sa/${identity.serviceAccount}`;
}

/** Parses a workload SPIFFE ID; undefined for anything else (ports, queries, fragments, other paths). */
export function parseSpiffeId(uri: string): { trustDomain: string; namespace: string; serviceAccount: string } | undefined {
  const match = WORKLOAD_ID.exec(uri);
  if (!match) return undefined;
  const [, trustDomain = '', namespace = '', serviceAccount = ''] = match;
  if (!isTrustDomain(trustDomain) || !isSegment(namespace) || !isSegment(serviceAccount)) return undefined;
  return { trustDomain, namespace, serviceAccount };
}

/** The trust domain of a trust-domain ID (spiffe://example.org, as SPIRE puts in CA certificates). */
export function parseTrustDomainId(uri: string): string | undefined {
  const trustDomain = TRUST_DOMAIN_ID.exec(uri)?.[1];
  return trustDomain !== undefined && isTrustDomain(trustDomain) ? trustDomain : undefined;
}
