// Test fixtures: CA directories (generated or operator-style, made with OpenSSL) and CSRs with
// chosen contents.
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { mustOpenssl } from './openssl.ts';

export function temporaryDirectory(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'weft-ca-test-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A CSR for a new RSA key of `bits` requesting `extensions` (forge's form), built here rather
 * than by the library under test. `extensionRequests` adds further extensionRequest attributes.
 */
export function csrWith(options: { bits?: number; subject?: forge.pki.CertificateField[]; extensions?: object[]; extensionRequests?: object[][] } = {}): string {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: options.bits ?? 2048,
    publicKeyEncoding: { format: 'pem', type: 'spki' },
    privateKeyEncoding: { format: 'pem', type: 'pkcs1' },
  });
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = forge.pki.publicKeyFromPem(publicKey);
  csr.setSubject(options.subject ?? []);
  const requests = [...(options.extensions?.length ? [options.extensions] : []), ...(options.extensionRequests ?? [])];
  csr.setAttributes(requests.map((extensions) => ({ name: 'extensionRequest', extensions })));
  csr.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/** `csrPem` with its public key replaced by `spkiDer` (the signature no longer matches). */
export function withPublicKey(csrPem: string, spkiDer: Buffer): string {
  const csr = forge.asn1.fromDer(forge.pem.decode(csrPem)[0]?.body ?? '');
  const info = (csr.value as forge.asn1.Asn1[])[0] as forge.asn1.Asn1;
  (info.value as forge.asn1.Asn1[])[2] = forge.asn1.fromDer(spkiDer.toString('binary'));
  return forge.pem.encode({ type: 'CERTIFICATE REQUEST', body: forge.asn1.toDer(csr).getBytes() });
}

export function sanRequest(...altNames: { type: number; value?: string; ip?: string }[]): object {
  return { name: 'subjectAltName', altNames };
}

const CA_EXTENSIONS = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n';

export interface OperatorCa {
  /** A cacerts directory signing with the lowest intermediate. */
  readonly dir: string;
  readonly rootPem: string;
  /** Lowest first (the signing CA), up to the one the root issued. */
  readonly intermediatesPem: string[];
}

/**
 * Makes an operator-style CA with OpenSSL in `work`: a root and `levels` intermediates (each
 * valid `intermediateDays`), laid out as Istio's cacerts in `work/cacerts`.
 */
export function makeOperatorCa(work: string, options: { levels: number; intermediateDays?: number }): OperatorCa {
  mkdirSync(work, { recursive: true });
  const run = (args: string[]): string => mustOpenssl(args, { cwd: work });
  writeFileSync(join(work, 'ca.ext'), CA_EXTENSIONS);
  run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem', '-days', '30', '-subj', '/O=Operator/CN=Operator Root CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  let issuer = 'root';
  for (let level = 1; level <= options.levels; level++) {
    const name = `intermediate${level}`;
    run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=Operator/CN=Operator Intermediate ${level}`]);
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-set_serial', String(1000 + level),
      '-days', String(options.intermediateDays ?? 20), '-extfile', 'ca.ext', '-out', `${name}.pem`]);
    issuer = name;
  }
  const read = (file: string): string => readFileSync(join(work, file), 'utf8');
  const intermediatesPem = Array.from({ length: options.levels }, (_, i) => read(`intermediate${options.levels - i}.pem`));
  const dir = join(work, 'cacerts');
  mkdirSync(dir);
  copyFileSync(join(work, `${issuer}.pem`), join(dir, 'ca-cert.pem'));
  copyFileSync(join(work, `${issuer}.key`), join(dir, 'ca-key.pem'));
  chmodSync(join(dir, 'ca-key.pem'), 0o600);
  writeFileSync(join(dir, 'root-cert.pem'), read('root.pem'));
  writeFileSync(join(dir, 'cert-chain.pem'), [...intermediatesPem, read('root.pem')].join(''));
  return { dir, rootPem: read('root.pem'), intermediatesPem };
}
