// A workload's side of issuance: a fresh RSA key and a CSR for it. The key never leaves the
// caller; the CA uses only the CSR's public key (the requested SAN is checked, not trusted).
import { generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { WORKLOAD_KEY_BITS } from './certificate-authority.ts';
import { forgePublicKey } from './certificate-builder.ts';
import { encodePem } from './pem.ts';
import { DEFAULT_TRUST_DOMAIN } from './settings.ts';
import { spiffeId, type WorkloadIdentity } from './spiffe-id.ts';

const { asn1, pki } = forge;
const generateKeyPairAsync = promisify(generateKeyPair);

// Present in node-forge (x509.js) but missing from @types/node-forge.
const getCertificationRequestInfo = (pki as unknown as { getCertificationRequestInfo(this: void, csr: forge.pki.CertificateSigningRequest): forge.asn1.Asn1 }).getCertificationRequestInfo;

const SHA256_WITH_RSA = pki.oids.sha256WithRSAEncryption as string;

export interface KeyAndCsrOptions {
  /** When set, the CSR requests this identity's SPIFFE ID as its URI SAN. */
  readonly identity?: WorkloadIdentity;
  /** Trust domain of that SPIFFE ID. Default cluster.local. */
  readonly trustDomain?: string;
}

/** An RSA 2048 key (PKCS#8 PEM) and a CSR for it signed with sha256WithRSAEncryption. */
export async function generateKeyAndCsr(options: KeyAndCsrOptions = {}): Promise<{ keyPem: string; csrPem: string }> {
  const requestedId = options.identity ? spiffeId(options.trustDomain ?? DEFAULT_TRUST_DOMAIN, options.identity) : undefined;
  const keys = await generateKeyPairAsync('rsa', { modulusLength: WORKLOAD_KEY_BITS });
  const extensions = requestedId === undefined ? [] : [{ name: 'subjectAltName', altNames: [{ type: 6, value: requestedId }] }];
  return { keyPem: keys.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, csrPem: buildCsr(keys, { extensions }) };
}

/** A PEM CSR for an RSA key pair, with the given subject and requested extensions (forge's form). */
function buildCsr(keys: { publicKey: KeyObject; privateKey: KeyObject }, content: { subject?: forge.pki.CertificateField[]; extensions?: object[] }): string {
  const csr = pki.createCertificationRequest();
  csr.publicKey = forgePublicKey(keys.publicKey.export({ format: 'der', type: 'spki' }));
  csr.setSubject(content.subject ?? []);
  if (content.extensions?.length) csr.setAttributes([{ name: 'extensionRequest', extensions: content.extensions }]);
  const info = getCertificationRequestInfo(csr);
  // Signed natively: forge's pure-JavaScript RSA signing is far slower.
  csr.certificationRequestInfo = info;
  csr.signatureOid = SHA256_WITH_RSA;
  csr.signature = sign('sha256', Buffer.from(asn1.toDer(info).getBytes(), 'binary'), keys.privateKey).toString('binary');
  return encodePem('CERTIFICATE REQUEST', Buffer.from(asn1.toDer(pki.certificationRequestToAsn1(csr)).getBytes(), 'binary'));
}
