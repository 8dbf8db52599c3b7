// Checks an Istio-style cacerts set (ca-cert, ca-key, root-cert, cert-chain) and derives what
// signing needs. Every refusal names the file and the problem; none quotes key material.
import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import type forge from 'node-forge';
import { CaError } from './ca-error.ts';
import { forgeAsn1, forgeAsn1ToDer } from './certificate-builder.ts';
import { DerError } from './der.ts';
import { parsePemCertificates } from './pem.ts';
import { parseTrustDomainId } from './spiffe-id.ts';
import { EXTENSION, readCertificateFields, readKeyUsage, readSubjectAltNames, readSubjectKeyIdentifier } from './x509-fields.ts';

export const CA_FILES = {
  caCert: 'ca-cert.pem',
  caKey: 'ca-key.pem',
  rootCert: 'root-cert.pem',
  certChain: 'cert-chain.pem',
} as const;

export type CaFileTexts = Readonly<Record<keyof typeof CA_FILES, string>>;

/** What signing needs, checked. */
export interface SigningMaterial {
  readonly key: KeyObject;
  /** The signing CA's subject Name, copied into every leaf as its issuer. */
  readonly issuerName: forge.asn1.Asn1;
  readonly authorityKeyId: Buffer;
  /** Certificates sent after a leaf: ca-cert when it is not a root, then further intermediates. */
  readonly intermediatesPem: readonly string[];
  /** The root the chain ends at first, then the other roots of root-cert.pem. */
  readonly rootsPem: readonly string[];
  /** The latest notBefore and earliest notAfter along the chain: a leaf must fit inside. */
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The trust domain the CA certificate names in a spiffe://<td> URI SAN, if any. */
  readonly certificateTrustDomain: string | undefined;
}

function fail(file: string, problem: string): CaError {
  return new CaError('WEFT_ERR_CA_FILES', `${file}: ${problem}`);
}

/** One line for a name as node:crypto prints it ("O=Weft\nCN=..."); Node reports an empty name as undefined. */
export function describeName(name: string | undefined): string {
  return name === undefined || name === '' ? '(empty)' : name.split('\n').join(', ');
}

function parseCertificates(file: string, text: string): X509Certificate[] {
  const pems = parsePemCertificates(text);
  if (pems.length === 0) throw fail(file, 'holds no PEM certificate');
  return pems.map((pem, index) => {
    try {
      return new X509Certificate(pem);
    } catch {
      throw fail(file, `certificate ${index + 1} cannot be parsed`);
    }
  });
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return child.checkIssued(parent) && child.verify(parent.publicKey);
}

function checkValidNow(file: string, certificate: X509Certificate, now: Date): void {
  const subject = describeName(certificate.subject);
  if (certificate.validToDate <= now) throw fail(file, `certificate "${subject}" expired on ${certificate.validToDate.toISOString()}`);
  if (certificate.validFromDate > now) throw fail(file, `certificate "${subject}" is not valid before ${certificate.validFromDate.toISOString()}`);
}

function readPrivateKey(text: string): KeyObject {
  try {
    return createPrivateKey({ key: text, format: 'pem' });
  } catch {
    // The underlying message is dropped on purpose: this is the one file whose bytes are secret.
    throw fail(CA_FILES.caKey, 'not an unencrypted PEM private key (PKCS#8 or PKCS#1)');
  }
}

export function checkCaMaterial(texts: CaFileTexts, now = new Date()): SigningMaterial {
  const caCerts = parseCertificates(CA_FILES.caCert, texts.caCert);
  const caCert = caCerts[0] as X509Certificate;
  if (caCerts.length !== 1) throw fail(CA_FILES.caCert, `holds ${caCerts.length} certificates; it must hold only the signing CA certificate (the chain belongs in ${CA_FILES.certChain})`);
  const roots = parseCertificates(CA_FILES.rootCert, texts.rootCert);
  const chain = parseCertificates(CA_FILES.certChain, texts.certChain);

  const key = readPrivateKey(texts.caKey);
  if (key.asymmetricKeyType !== 'rsa') throw fail(CA_FILES.caKey, `the key is ${key.asymmetricKeyType ?? 'of an unknown type'}; only RSA CA keys are supported`);
  if (!caCert.checkPrivateKey(key)) throw fail(CA_FILES.caKey, `the key does not match the certificate in ${CA_FILES.caCert}`);

  const fields = readCaCertificateFields(caCert);
  if (!caCert.ca) throw fail(CA_FILES.caCert, 'not a CA certificate (basicConstraints CA:TRUE is missing)');
  if (!fields.keyUsage?.keyCertSign) throw fail(CA_FILES.caCert, 'its keyUsage does not allow keyCertSign');

  for (const [index, root] of roots.entries()) {
    if (!root.ca || !issuedBy(root, root)) throw fail(CA_FILES.rootCert, `certificate ${index + 1} ("${describeName(root.subject)}") is not a self-signed CA certificate`);
  }
  const { path, anchor } = buildPath(caCert, chain, roots);
  for (const certificate of path) checkValidNow(certificate === caCert ? CA_FILES.caCert : CA_FILES.certChain, certificate, now);
  checkValidNow(anchor === caCert ? CA_FILES.caCert : CA_FILES.rootCert, anchor, now);

  const issuerName = forgeAsn1(fields.subjectDer);
  // Leaves name their issuer with these exact bytes (see signCertificate); forge must not alter them.
  if (!forgeAsn1ToDer(issuerName).equals(fields.subjectDer)) throw fail(CA_FILES.caCert, 'the subject name is not canonical DER');

  const trustDomains = fields.uris.map(parseTrustDomainId).filter((td) => td !== undefined);
  const withAnchor = [...path, anchor];
  return {
    key,
    issuerName,
    authorityKeyId: fields.subjectKeyId ?? keyIdentifier(caCert),
    intermediatesPem: path.filter((certificate) => certificate !== anchor).map((certificate) => certificate.toString()),
    rootsPem: [anchor, ...roots.filter((root) => !root.raw.equals(anchor.raw))].map((root) => root.toString()),
    notBefore: new Date(Math.max(...withAnchor.map((certificate) => certificate.validFromDate.getTime()))),
    notAfter: new Date(Math.min(...withAnchor.map((certificate) => certificate.validToDate.getTime()))),
    certificateTrustDomain: trustDomains[0],
  };
}

function readCaCertificateFields(caCert: X509Certificate): { subjectDer: Buffer; keyUsage: ReturnType<typeof readKeyUsage>; uris: string[]; subjectKeyId: Buffer | undefined } {
  try {
    const { subjectDer, extensions } = readCertificateFields(caCert.raw);
    return {
      subjectDer,
      keyUsage: readKeyUsage(extensions.get(EXTENSION.keyUsage)),
      uris: readSubjectAltNames(extensions.get(EXTENSION.subjectAltName)).uris,
      subjectKeyId: readSubjectKeyIdentifier(extensions.get(EXTENSION.subjectKeyIdentifier)),
    };
  } catch (error) {
    if (error instanceof DerError) throw fail(CA_FILES.caCert, 'the certificate is not valid DER');
    throw error;
  }
}

/**
 * Follows cert-chain.pem from ca-cert up to a root of root-cert.pem. cert-chain.pem may start
 * with ca-cert itself (Istio's layout) and may end with the root or stop below it.
 */
function buildPath(caCert: X509Certificate, chain: X509Certificate[], roots: X509Certificate[]): { path: X509Certificate[]; anchor: X509Certificate } {
  const isRoot = (certificate: X509Certificate): boolean => roots.some((root) => root.raw.equals(certificate.raw));
  const rest = chain[0]?.raw.equals(caCert.raw) ? chain.slice(1) : chain;
  const path = [caCert];
  let current = caCert;
  let position = 0;
  while (!isRoot(current)) {
    const next = rest[position];
    if (!next) {
      const root = roots.find((candidate) => issuedBy(current, candidate));
      if (!root) throw fail(CA_FILES.certChain, `the chain ends at "${describeName(current.subject)}", which no certificate in ${CA_FILES.rootCert} issued`);
      return { path, anchor: root };
    }
    if (!issuedBy(current, next)) throw fail(CA_FILES.certChain, `certificate ${position + 1} ("${describeName(next.subject)}") did not issue "${describeName(current.subject)}"`);
    if (!next.ca) throw fail(CA_FILES.certChain, `certificate ${position + 1} ("${describeName(next.subject)}") is not a CA certificate`);
    path.push(next);
    current = next;
    position++;
  }
  if (position < rest.length) throw fail(CA_FILES.certChain, `holds ${rest.length - position} certificate(s) after the root "${describeName(current.subject)}"`);
  return { path, anchor: current };
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (for a CA without an SKI). */
function keyIdentifier(certificate: X509Certificate): Buffer {
  return createHash('sha1').update(certificate.publicKey.export({ format: 'der', type: 'pkcs1' })).digest();
}
