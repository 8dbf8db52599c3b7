// PEM text <-> DER. Bundles (root-cert.pem, cert-chain.pem) are several blocks in one file;
// text between blocks (OpenSSL's "subject=" lines, comments) is ignored, as OpenSSL does.

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/=\s]*$/;

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const [, label = '', body = ''] = match;
    // Buffer's base64 decoder skips invalid characters; refuse them instead of guessing.
    if (!BASE64_BODY.test(body)) continue;
    blocks.push({ label, der: Buffer.from(body, 'base64') });
  }
  return blocks;
}

export function encodePem(label: string, der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Splits a PEM bundle into single certificates, each re-encoded as one PEM block. */
export function parsePemCertificates(pem: string): string[] {
  return pemBlocks(pem)
    .filter((block) => block.label === 'CERTIFICATE' && block.der.length > 0)
    .map((block) => encodePem('CERTIFICATE', block.der));
}
