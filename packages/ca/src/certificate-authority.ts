// Issues X.509-SVIDs (SPIFFE X.509-SVID standard) from checked signing material. The identity
// of a certificate comes only from the caller (its authenticated token), never from the CSR.
import { generateKeyPair, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import type forge from 'node-forge';
import { CaError } from './ca-error.ts';
import type { SigningMaterial } from './ca-material.ts';
import { forgePublicKey, randomSerialNumberHex, signCertificate } from './certificate-builder.ts';
import { checkCsr, checkRequestedIdentity } from './csr.ts';
import { CLOCK_SKEW_MS, isPositiveWholeSeconds } from './settings.ts';
import { spiffeId, type WorkloadIdentity } from './spiffe-id.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

export const WORKLOAD_KEY_BITS = 2048;

export interface IssuedCertificate {
  /** The leaf certificate. */
  readonly certificatePem: string;
  /** The leaf first, then intermediates, up to (not including) the root. */
  readonly chainPem: readonly string[];
  readonly spiffeId: string;
  /** Uppercase hex, as node:crypto's X509Certificate.serialNumber prints it. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface SignOptions {
  /**
   * Requested lifetime. Default: the CA's defaultTtlSeconds. A TTL above maxTtlSeconds is
   * silently capped to maxTtlSeconds, and notAfter never passes the CA chain's own expiry.
   */
  readonly ttlSeconds?: number;
  /** Extra SANs for a certificate the caller vouches for (the control plane's serving cert). */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

export interface CertificateAuthorityOptions {
  readonly trustDomain: string;
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
  readonly material: SigningMaterial;
}

const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;
const SAN_URI = 6;
const SAN_DNS = 2;
const SAN_IP = 7;

interface Validity {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export class CertificateAuthority {
  readonly trustDomain: string;
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
  // Private fields: invisible to JSON.stringify, util.inspect and property enumeration.
  readonly #key: KeyObject;
  readonly #issuerName: forge.asn1.Asn1;
  readonly #authorityKeyId: string;
  readonly #intermediatesPem: readonly string[];
  readonly #rootsPem: readonly string[];
  readonly #notBefore: number;
  readonly #notAfter: number;

  constructor(options: CertificateAuthorityOptions) {
    this.trustDomain = options.trustDomain;
    this.defaultTtlSeconds = options.defaultTtlSeconds;
    this.maxTtlSeconds = options.maxTtlSeconds;
    this.#key = options.material.key;
    this.#issuerName = options.material.issuerName;
    this.#authorityKeyId = options.material.authorityKeyId.toString('binary');
    this.#intermediatesPem = Object.freeze([...options.material.intermediatesPem]);
    this.#rootsPem = Object.freeze([...options.material.rootsPem]);
    this.#notBefore = options.material.notBefore.getTime();
    this.#notAfter = options.material.notAfter.getTime();
  }

  /** PEM roots the mesh trusts: the signing chain's root first, then any other roots (CA rotation overlap). */
  trustBundle(): readonly string[] {
    return this.#rootsPem;
  }

  /** When the signing chain expires; no certificate is issued past it. */
  get expiresAt(): Date {
    return new Date(this.#notAfter);
  }

  /**
   * Signs `csrPem` for exactly `identity` (from the caller's authenticated token, never from the
   * CSR). Only the CSR's public key is used; a CSR asking for any other name is refused.
   */
  sign(csrPem: string, identity: WorkloadIdentity, options: SignOptions = {}): IssuedCertificate {
    const id = spiffeId(this.trustDomain, identity);
    const validity = this.#validity(options.ttlSeconds);
    const extraNames = checkedExtraNames(options);
    const csr = checkCsr(csrPem);
    checkRequestedIdentity(csr.requestedNames, id);
    return this.#issueFor(csrPublicKey(csr.spkiDer), id, validity, extraNames);
  }

  /** Issues a certificate for a new RSA key held by this process (the control plane's own serving cert; `weft ca issue`). */
  async issue(identity: WorkloadIdentity, options: SignOptions = {}): Promise<{ keyPem: string } & IssuedCertificate> {
    const id = spiffeId(this.trustDomain, identity);
    this.#validity(options.ttlSeconds); // refuse a bad TTL before spending a key generation on it
    const extraNames = checkedExtraNames(options);
    const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: WORKLOAD_KEY_BITS });
    const issued = this.#issueFor(forgePublicKey(publicKey.export({ format: 'der', type: 'spki' })), id, this.#validity(options.ttlSeconds), extraNames);
    return Object.freeze({ keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, ...issued });
  }

  #validity(requestedTtl: number | undefined): Validity {
    const ttl = requestedTtl ?? this.defaultTtlSeconds;
    if (!isPositiveWholeSeconds(ttl)) throw new CaError('WEFT_ERR_TTL', `TTL must be a positive whole number of seconds, got ${String(ttl)}`);
    // Certificates carry whole seconds; round here so the returned dates match the certificate.
    const now = Math.floor(Date.now() / 1000) * 1000;
    if (now >= this.#notAfter) throw new CaError('WEFT_ERR_CA_EXPIRED', `the CA certificate chain expired on ${new Date(this.#notAfter).toISOString()}`);
    return {
      notBefore: new Date(Math.max(now - CLOCK_SKEW_MS, this.#notBefore)),
      notAfter: new Date(Math.min(now + Math.min(ttl, this.maxTtlSeconds) * 1000, this.#notAfter)),
    };
  }

  #issueFor(publicKey: forge.pki.rsa.PublicKey, id: string, validity: Validity, extraNames: readonly object[]): IssuedCertificate {
    const serialNumberHex = randomSerialNumberHex();
    const leaf = signCertificate(
      {
        serialNumberHex,
        ...validity,
        // SPIFFE: the URI SAN is the identity; the subject stays empty, so the SAN is critical (RFC 5280 4.2.1.6).
        subject: [],
        issuerName: this.#issuerName,
        publicKey,
        extensions: [
          { name: 'basicConstraints', cA: false, critical: true },
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
          { name: 'subjectKeyIdentifier' },
          { name: 'authorityKeyIdentifier', keyIdentifier: this.#authorityKeyId },
          { name: 'subjectAltName', critical: true, altNames: [{ type: SAN_URI, value: id }, ...extraNames] },
        ],
      },
      this.#key,
    );
    return Object.freeze({
      certificatePem: leaf.pem,
      chainPem: Object.freeze([leaf.pem, ...this.#intermediatesPem]),
      spiffeId: id,
      serialNumber: serialNumberHex.toUpperCase(),
      notBefore: validity.notBefore,
      notAfter: validity.notAfter,
    });
  }
}

function csrPublicKey(spkiDer: Buffer): forge.pki.rsa.PublicKey {
  try {
    return forgePublicKey(spkiDer);
  } catch {
    // node:crypto read it as RSA; forge is stricter about the encoding.
    throw new CaError('WEFT_ERR_CSR_MALFORMED', 'CSR is malformed: unreadable RSA public key');
  }
}

function checkedExtraNames(options: SignOptions): object[] {
  const names: object[] = [];
  for (const name of options.dnsNames ?? []) {
    if (name.length > 253 || !DNS_NAME.test(name)) throw new CaError('WEFT_ERR_SAN', `${JSON.stringify(name)} is not a DNS name`);
    names.push({ type: SAN_DNS, value: name.toLowerCase() });
  }
  for (const ip of options.ipAddresses ?? []) {
    if (isIP(ip) === 0 || ip.includes('%')) throw new CaError('WEFT_ERR_SAN', `${JSON.stringify(ip)} is not an IP address`);
    names.push({ type: SAN_IP, ip });
  }
  return names;
}
