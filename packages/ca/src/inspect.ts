// A readable summary of a certificate, for `weft ca inspect` and for tests. Uses node:crypto,
// so certificates with any key type can be inspected.
import { X509Certificate } from 'node:crypto';
import { CaError } from './ca-error.ts';
import { describeName } from './ca-material.ts';
import { DerError } from './der.ts';
import { parsePemCertificates } from './pem.ts';
import { EXTENSION, readCertificateFields, readSubjectAltNames } from './x509-fields.ts';

export interface CertificateSummary {
  /** "O=Weft, CN=..." in encoded order; "" for an empty subject (as SVIDs have). */
  subject: string;
  issuer: string;
  /** URI SANs with the spiffe scheme. */
  spiffeIds: string[];
  dnsNames: string[];
  ipAddresses: string[];
  /** Every URI SAN, SPIFFE or not. */
  uris: string[];
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  /** Uppercase hex. */
  serialNumber: string;
}

/** Summarises the first certificate in `pem`. */
export function inspectCertificate(pem: string): CertificateSummary {
  const first = parsePemCertificates(pem)[0];
  if (first === undefined) throw new CaError('WEFT_ERR_CERT_MALFORMED', 'no PEM certificate found');
  let certificate: X509Certificate;
  let names: ReturnType<typeof readSubjectAltNames>;
  try {
    certificate = new X509Certificate(first);
    names = readSubjectAltNames(readCertificateFields(certificate.raw).extensions.get(EXTENSION.subjectAltName));
  } catch (error) {
    if (error instanceof DerError || !(error instanceof CaError)) throw new CaError('WEFT_ERR_CERT_MALFORMED', 'the certificate cannot be parsed');
    throw error;
  }
  return {
    subject: certificate.subject ? describeName(certificate.subject) : '',
    issuer: describeName(certificate.issuer),
    spiffeIds: names.uris.filter((uri) => uri.startsWith('spiffe://')),
    dnsNames: names.dnsNames,
    ipAddresses: names.ipAddresses,
    uris: names.uris,
    notBefore: certificate.validFromDate,
    notAfter: certificate.validToDate,
    isCa: certificate.ca,
    serialNumber: certificate.serialNumber,
  };
}

/** A certificate's public fields as JSON-ready strings: what debug and admin endpoints show. */
export interface CertificateFields {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
}

export function certificateFields(pem: string): CertificateFields {
  const { subject, issuer, serialNumber, notBefore, notAfter } = inspectCertificate(pem);
  return { subject, issuer, serialNumber, notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString() };
}
