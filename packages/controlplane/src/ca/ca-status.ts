// What /debug/ca shows: the CA's roots and signing chain expiry, issuance counts, and which proxy
// holds which certificate. Certificates' public fields only; no key ever reaches it.
import { certificateFields, type CertificateAuthority, type CertificateFields } from '@weft/ca';
import type { IssuanceStats } from './certificate-service.ts';
import type { IssuedCertificateRecord, IssuedCertificates } from './issued-certificates.ts';

export interface CaStatus extends IssuanceStats {
  readonly trustDomain: string;
  /** When the signing chain (root, or intermediate under it) expires: no certificate outlives it. */
  readonly signingChainNotAfter: string;
  /** The trust bundle, signing root first. */
  readonly roots: readonly CertificateFields[];
  readonly certificates: readonly IssuedCertificateRecord[];
}

export function caStatus(ca: CertificateAuthority, issuance: IssuanceStats, issued: IssuedCertificates): CaStatus {
  return {
    trustDomain: ca.trustDomain,
    signingChainNotAfter: ca.expiresAt.toISOString(),
    roots: ca.trustBundle().map(certificateFields),
    issued: issuance.issued,
    refused: issuance.refused,
    certificates: issued.list(),
  };
}
