// Generates a self-signed root CA: the built-in CA's trust anchor and signing certificate.
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { forgePublicKey, randomSerialNumberHex, signCertificate } from './certificate-builder.ts';
import { CLOCK_SKEW_MS } from './settings.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

// 3072 bits: the root may live ten years (NIST: 2048-bit RSA is for use until 2030). Native key
// generation takes 0.1-0.4 s once; a signature costs ~2.5 ms instead of ~1 ms at 2048.
export const ROOT_KEY_BITS = 3072;
// X.520 upper bound for commonName.
const MAX_COMMON_NAME = 64;

export interface GeneratedRoot {
  readonly certificatePem: string;
  readonly keyPem: string;
}

export async function generateRoot(trustDomain: string, ttlDays: number): Promise<GeneratedRoot> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: ROOT_KEY_BITS });
  const now = Math.floor(Date.now() / 1000) * 1000;
  // UTF8String (forge defaults to PrintableString, which cannot hold '_'); @types/node-forge
  // mistypes valueTagClass as a Class.
  const utf8 = forge.asn1.Type.UTF8 as unknown as forge.asn1.Class;
  const certificate = signCertificate(
    {
      serialNumberHex: randomSerialNumberHex(),
      notBefore: new Date(now - CLOCK_SKEW_MS),
      notAfter: new Date(now + Math.round(ttlDays * 86_400) * 1000),
      subject: [
        { shortName: 'O', value: 'Weft', valueTagClass: utf8 },
        { shortName: 'CN', value: `Weft root CA ${trustDomain}`.slice(0, MAX_COMMON_NAME), valueTagClass: utf8 },
      ],
      publicKey: forgePublicKey(publicKey.export({ format: 'der', type: 'spki' })),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
        { name: 'subjectKeyIdentifier' },
        // As SPIRE does: names the trust domain, so loading the CA back needs no configuration.
        { name: 'subjectAltName', altNames: [{ type: 6, value: `spiffe://${trustDomain}` }] },
      ],
    },
    privateKey,
  );
  return { certificatePem: certificate.pem, keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string };
}
