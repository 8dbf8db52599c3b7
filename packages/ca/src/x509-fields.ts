// Reads the fields of a DER certificate that node:crypto's X509Certificate does not expose
// (raw subject name, extensions by OID) straight from its bytes.
import { TAG, children, expectTag, readSingle, type Tlv } from './der.ts';

export const EXTENSION = {
  subjectKeyIdentifier: '551d0e',
  keyUsage: '551d0f',
  subjectAltName: '551d11',
  basicConstraints: '551d13',
  extKeyUsage: '551d25',
} as const;

export interface Extension {
  readonly critical: boolean;
  readonly value: Buffer;
}

export interface CertificateFields {
  /** The subject Name exactly as encoded: a leaf's issuer must equal it byte for byte. */
  readonly subjectDer: Buffer;
  /** Extensions by the hex of their OID's contents (see EXTENSION). */
  readonly extensions: ReadonlyMap<string, Extension>;
}

export interface SubjectAltNames {
  readonly uris: string[];
  readonly dnsNames: string[];
  readonly ipAddresses: string[];
  /** GeneralName kinds other than URI, DNS and IP (email, otherName, directoryName...). */
  readonly others: number;
}

const CONTEXT_CONSTRUCTED_0 = 0xa0;
const CONTEXT_CONSTRUCTED_3 = 0xa3;

export function readCertificateFields(der: Buffer): CertificateFields {
  const certificate = expectTag(readSingle(der), TAG.sequence, 'certificate');
  const tbs = expectTag(children(certificate)[0], TAG.sequence, 'tbsCertificate');
  const fields = children(tbs);
  const start = fields[0]?.tag === CONTEXT_CONSTRUCTED_0 ? 1 : 0;
  // serial, signature, issuer, validity, subject
  const subject = expectTag(fields[start + 4], TAG.sequence, 'subject');
  const extensions = new Map<string, Extension>();
  const wrapper = fields.find((field) => field.tag === CONTEXT_CONSTRUCTED_3);
  if (wrapper) {
    for (const extension of children(expectTag(children(wrapper)[0], TAG.sequence, 'extensions'))) {
      const [oid, second, third] = children(extension);
      const critical = second?.tag === TAG.boolean && second.contents[0] !== 0;
      const value = expectTag(second?.tag === TAG.boolean ? third : second, TAG.octetString, 'extension value');
      extensions.set(expectTag(oid, TAG.oid, 'extension id').contents.toString('hex'), { critical, value: value.contents });
    }
  }
  return { subjectDer: Buffer.from(subject.bytes), extensions };
}

export function readSubjectAltNames(extension: Extension | undefined): SubjectAltNames {
  const names: SubjectAltNames = { uris: [], dnsNames: [], ipAddresses: [], others: 0 };
  if (!extension) return names;
  for (const name of children(expectTag(readSingle(extension.value), TAG.sequence, 'subjectAltName'))) {
    if (name.tag === 0x86) names.uris.push(name.contents.toString('latin1'));
    else if (name.tag === 0x82) names.dnsNames.push(name.contents.toString('latin1'));
    else if (name.tag === 0x87) names.ipAddresses.push(formatIp(name.contents));
    else (names as { others: number }).others++;
  }
  return names;
}

function formatIp(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) return Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16)).join(':');
  return `(${bytes.length}-byte address)`;
}

/** keyUsage bits as named flags (RFC 5280 4.2.1.3); undefined when the extension is absent. */
export function readKeyUsage(extension: Extension | undefined): { digitalSignature: boolean; keyEncipherment: boolean; keyCertSign: boolean; cRLSign: boolean } | undefined {
  if (!extension) return undefined;
  const bits: Tlv = expectTag(readSingle(extension.value), TAG.bitString, 'keyUsage');
  const first = bits.contents[1] ?? 0;
  return { digitalSignature: (first & 0x80) !== 0, keyEncipherment: (first & 0x20) !== 0, keyCertSign: (first & 0x04) !== 0, cRLSign: (first & 0x02) !== 0 };
}

/** The key identifier of a subjectKeyIdentifier extension. */
export function readSubjectKeyIdentifier(extension: Extension | undefined): Buffer | undefined {
  return extension ? Buffer.from(expectTag(readSingle(extension.value), TAG.octetString, 'subjectKeyIdentifier').contents) : undefined;
}
