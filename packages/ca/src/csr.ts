// Validation of a certificate signing request from an untrusted caller. Only the public key is
// taken from a CSR; its subject and extensions are read just to refuse a request for an
// identity other than the caller's (see CertificateAuthority.sign).
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CaError, quoteUntrusted } from './ca-error.ts';
import { DerError, TAG, children, expectTag, readSingle, type Tlv } from './der.ts';
import { pemBlocks } from './pem.ts';
import { EXTENSION, readSubjectAltNames, type SubjectAltNames } from './x509-fields.ts';

export const MAX_CSR_PEM_BYTES = 8 * 1024;
export const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;
// NIST SP 800-56B: public exponents below 65537 are not approved.
const MIN_RSA_EXPONENT = 65537n;

const CSR_LABELS = new Set(['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
const EXTENSION_REQUEST = '2a864886f70d01090e'; // 1.2.840.113549.1.9.14
const RSA_SIGNATURE_HASHES: ReadonlyMap<string, string> = new Map([
  ['2a864886f70d01010b', 'sha256'], // sha256WithRSAEncryption
  ['2a864886f70d01010c', 'sha384'],
  ['2a864886f70d01010d', 'sha512'],
]);
const NULL_PARAMETERS = Buffer.from([0x05, 0x00]);

export interface CheckedCsr {
  /** SubjectPublicKeyInfo DER of the CSR's key (RSA, at least 2048 bits, proven possessed). */
  readonly spkiDer: Buffer;
  readonly requestedNames: SubjectAltNames;
}

function malformed(problem: string): CaError {
  return new CaError('WEFT_ERR_CSR_MALFORMED', `CSR is malformed: ${problem}`);
}

/** Parses `csrPem` and checks size, structure, key and proof of possession, in that order. */
export function checkCsr(csrPem: string): CheckedCsr {
  if (typeof csrPem !== 'string') throw malformed('expected PEM text');
  const size = Buffer.byteLength(csrPem, 'utf8');
  if (size > MAX_CSR_PEM_BYTES) throw new CaError('WEFT_ERR_CSR_TOO_LARGE', `CSR is ${size} bytes; the limit is ${MAX_CSR_PEM_BYTES}`);
  const blocks = pemBlocks(csrPem);
  const block = blocks[0];
  if (blocks.length !== 1 || !block || !CSR_LABELS.has(block.label)) throw malformed('expected exactly one PEM block "-----BEGIN CERTIFICATE REQUEST-----"');

  const parts = whileReadingDer('not a DER PKCS#10 CertificationRequest', () => splitRequest(block.der));
  const key = readKey(parts.spki.bytes);
  const hash = whileReadingDer('unreadable signature algorithm', () => signatureHash(parts.algorithm));
  if (!verify(hash, parts.info.bytes, key, parts.signature)) {
    throw new CaError('WEFT_ERR_CSR_BAD_SIGNATURE', 'CSR signature does not verify: a CSR must be signed by the key it carries');
  }
  const requestedNames = whileReadingDer('unreadable extension request', () => readRequestedNames(parts.attributes));
  return { spkiDer: Buffer.from(parts.spki.bytes), requestedNames };
}

/** Runs `read`, turning a DER problem into WEFT_ERR_CSR_MALFORMED (without the parser's detail). */
function whileReadingDer<T>(problem: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof DerError) throw malformed(problem);
    throw error;
  }
}

function splitRequest(der: Buffer): { info: Tlv; spki: Tlv; algorithm: Tlv; signature: Buffer; attributes: Tlv | undefined } {
  const request = children(expectTag(readSingle(der), TAG.sequence, 'request'));
  if (request.length !== 3) throw new DerError('request: expected three elements');
  const [infoTlv, algorithm, signatureBits] = request;
  const info = expectTag(infoTlv, TAG.sequence, 'certificationRequestInfo');
  const [version, subject, spki, attributes, ...rest] = children(info);
  if (expectTag(version, TAG.integer, 'version').contents.toString('hex') !== '00') throw new DerError('version: not v1');
  expectTag(subject, TAG.sequence, 'subject');
  expectTag(spki, TAG.sequence, 'subjectPublicKeyInfo');
  if (attributes !== undefined && attributes.tag !== 0xa0) throw new DerError('attributes: unexpected element');
  if (rest.length > 0) throw new DerError('certificationRequestInfo: trailing elements');
  const bits = expectTag(signatureBits, TAG.bitString, 'signature');
  if (bits.contents[0] !== 0) throw new DerError('signature: unused bits');
  return { info, spki: spki as Tlv, algorithm: expectTag(algorithm, TAG.sequence, 'signatureAlgorithm'), signature: bits.contents.subarray(1), attributes };
}

function readKey(spkiDer: Buffer): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch {
    throw malformed('unreadable public key');
  }
  if (key.asymmetricKeyType !== 'rsa') throw malformed(`the key is ${key.asymmetricKeyType ?? 'of an unknown type'}; only RSA keys are supported`);
  const { modulusLength = 0, publicExponent = 0n } = key.asymmetricKeyDetails ?? {};
  if (modulusLength < MIN_RSA_BITS) throw new CaError('WEFT_ERR_CSR_WEAK_KEY', `CSR key is RSA ${modulusLength} bits; at least ${MIN_RSA_BITS} are required`);
  if (modulusLength > MAX_RSA_BITS) throw malformed(`RSA keys above ${MAX_RSA_BITS} bits are not accepted (got ${modulusLength})`);
  if (publicExponent < MIN_RSA_EXPONENT) throw new CaError('WEFT_ERR_CSR_WEAK_KEY', `CSR key has RSA public exponent ${publicExponent}; at least ${MIN_RSA_EXPONENT} is required`);
  return key;
}

function signatureHash(algorithm: Tlv): string {
  const [oid, parameters, ...rest] = children(algorithm);
  const hash = RSA_SIGNATURE_HASHES.get(expectTag(oid, TAG.oid, 'signature algorithm').contents.toString('hex'));
  const parametersOk = parameters === undefined || parameters.bytes.equals(NULL_PARAMETERS);
  if (!hash || !parametersOk || rest.length > 0) throw malformed('unsupported signature algorithm (use sha256WithRSAEncryption)');
  return hash;
}

/** Every subjectAltName in every extensionRequest attribute (a CSR may repeat them). */
function readRequestedNames(attributes: Tlv | undefined): SubjectAltNames {
  const names: SubjectAltNames = { uris: [], dnsNames: [], ipAddresses: [], others: 0 };
  for (const attribute of attributes ? children(attributes) : []) {
    const [type, values] = children(expectTag(attribute, TAG.sequence, 'attribute'));
    if (expectTag(type, TAG.oid, 'attribute type').contents.toString('hex') !== EXTENSION_REQUEST) continue;
    for (const extensions of children(expectTag(values, TAG.set, 'attribute values'))) {
      for (const extension of children(expectTag(extensions, TAG.sequence, 'extensions'))) {
        const [oid, second, third] = children(expectTag(extension, TAG.sequence, 'extension'));
        if (expectTag(oid, TAG.oid, 'extension id').contents.toString('hex') !== EXTENSION.subjectAltName) continue;
        const value = expectTag(second?.tag === TAG.boolean ? third : second, TAG.octetString, 'extension value');
        const found = readSubjectAltNames({ critical: false, value: value.contents });
        names.uris.push(...found.uris);
        names.dnsNames.push(...found.dnsNames);
        names.ipAddresses.push(...found.ipAddresses);
        (names as { others: number }).others += found.others;
      }
    }
  }
  return names;
}

/** Refuses a CSR that asks for any name other than `allowedId` (the caller's own SPIFFE ID). */
export function checkRequestedIdentity(requested: SubjectAltNames, allowedId: string): void {
  const otherUri = requested.uris.find((uri) => uri !== allowedId);
  if (otherUri !== undefined) {
    throw new CaError('WEFT_ERR_CSR_IDENTITY_MISMATCH', `CSR requests SPIFFE ID ${quoteUntrusted(otherUri)}, but the caller may only obtain "${allowedId}"`);
  }
  const extras = [...requested.dnsNames.map((name) => `DNS ${quoteUntrusted(name, 80)}`), ...requested.ipAddresses.map((ip) => `IP ${ip}`)];
  if (requested.others > 0) extras.push(`${requested.others} other name(s)`);
  if (extras.length > 0) {
    throw new CaError('WEFT_ERR_CSR_IDENTITY_MISMATCH', `CSR requests ${extras.slice(0, 5).join(', ')}; workload certificates carry only the SPIFFE ID "${allowedId}"`);
  }
}
