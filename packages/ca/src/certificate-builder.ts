// Builds an X.509 v3 certificate with node-forge and signs it with node:crypto. forge encodes
// the structure well but signs in pure JavaScript (tens of milliseconds per RSA signature);
// node:crypto signs natively in about a millisecond, which matters when proxies renew every
// few seconds.
import { randomBytes, sign, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { encodePem } from './pem.ts';

const { asn1, pki } = forge;

// Present in node-forge (x509.js) but missing from @types/node-forge.
const getTbsCertificate = (pki as unknown as { getTBSCertificate(this: void, cert: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate;

const SHA256_WITH_RSA = pki.oids.sha256WithRSAEncryption as string;
/** Position of the issuer Name among a v3 TBSCertificate's fields (version, serial, signature, issuer). */
const TBS_ISSUER_INDEX = 3;

export interface CertificateTemplate {
  readonly serialNumberHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly subject: forge.pki.CertificateField[];
  /** The issuer's subject Name as DER; absent for a self-signed certificate (issuer = subject). */
  readonly issuerName?: forge.asn1.Asn1;
  readonly publicKey: forge.pki.rsa.PublicKey;
  /** Extensions in node-forge's form; subjectKeyIdentifier is derived from publicKey. */
  readonly extensions: object[];
}

export interface SignedCertificate {
  readonly der: Buffer;
  readonly pem: string;
}

/** Signs `template` with the issuer's RSA key using sha256WithRSAEncryption. */
export function signCertificate(template: CertificateTemplate, issuerKey: KeyObject): SignedCertificate {
  const cert = pki.createCertificate();
  cert.version = 2; // v3
  cert.serialNumber = template.serialNumberHex;
  cert.validity.notBefore = template.notBefore;
  cert.validity.notAfter = template.notAfter;
  cert.publicKey = template.publicKey;
  cert.setSubject(template.subject);
  cert.setIssuer(template.subject);
  cert.setExtensions(template.extensions);
  cert.siginfo.algorithmOid = SHA256_WITH_RSA;

  const tbs = getTbsCertificate(cert);
  // The issuer Name is copied as the CA encoded it, so name chaining never depends on how forge
  // would re-encode attribute strings.
  if (template.issuerName) (tbs.value as forge.asn1.Asn1[])[TBS_ISSUER_INDEX] = template.issuerName;
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary');

  cert.tbsCertificate = tbs;
  cert.signatureOid = SHA256_WITH_RSA;
  cert.signature = sign('sha256', tbsDer, issuerKey).toString('binary');
  const der = Buffer.from(asn1.toDer(pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { der, pem: encodePem('CERTIFICATE', der) };
}

/** A random positive 128-bit serial (RFC 5280: positive, at most 20 octets; CA/B: 64+ random bits). */
export function randomSerialNumberHex(): string {
  const bytes = randomBytes(16);
  // Clear the sign bit, and keep the first octet non-zero so the DER INTEGER stays minimal.
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) || 0x01;
  return bytes.toString('hex');
}

/** forge's form of a public key given as SPKI DER (RSA only: forge reads no other kind). */
export function forgePublicKey(spkiDer: Buffer): forge.pki.rsa.PublicKey {
  return pki.publicKeyFromAsn1(asn1.fromDer(spkiDer.toString('binary')));
}

/** forge's form of a DER value (for a Name copied verbatim into a certificate). */
export function forgeAsn1(der: Buffer): forge.asn1.Asn1 {
  return asn1.fromDer(der.toString('binary'));
}

export function forgeAsn1ToDer(value: forge.asn1.Asn1): Buffer {
  return Buffer.from(asn1.toDer(value).getBytes(), 'binary');
}
