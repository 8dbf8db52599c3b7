// The proxy's own identity: a key generated in memory, a certificate from the control plane's
// certificate service, and the roots the mesh trusts. It renews at about half the
// certificate's lifetime (with jitter), retries with backoff while the CA is unreachable —
// keeping the current certificate as long as it is valid — and swaps certificates without
// touching open connections: every new handshake asks for the current secure context.
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { certificateFields, generateKeyAndCsr, inspectCertificate, parsePemCertificates, parseSpiffeId, type CertificateFields } from '@weft/ca';
import { MutableCertificateProvider } from '@weft/proto';
import type { HostPort, Logger } from '@weft/runtime';
import { Backoff } from '../xds/backoff.ts';
import { requestCertificate } from './certificate-client.ts';

export interface IdentityOptions {
  /** The control plane's TLS port (certificate service). */
  readonly caAddress: HostPort;
  /** File holding the bearer token (re-read for every request: projected tokens rotate). */
  readonly tokenFile: string;
  /** PEM roots to trust until the control plane sends its trust bundle. */
  readonly bootstrapRootsPem: string;
  /** Namespace and service account of the control plane, to verify it by SPIFFE ID. */
  readonly controlPlane: { readonly namespace: string; readonly serviceAccount: string };
  readonly ttlSeconds: number;
  /** This proxy's node id, told to the certificate service so it can say who holds what. */
  readonly proxyId: string;
  readonly log: Logger;
  readonly random?: () => number;
}

interface Current {
  readonly keyPem: string;
  readonly chainPem: readonly string[];
  readonly spiffeId: string;
  readonly leaf: CertificateFields;
  /** When we received it: its notBefore is backdated for clock skew, so lifetime counts from here. */
  readonly receivedAt: number;
  readonly notAfter: Date;
}

export interface IdentityStatus {
  readonly spiffeId: string | undefined;
  readonly subject: string | undefined;
  readonly issuer: string | undefined;
  readonly serialNumber: string | undefined;
  readonly notBefore: string | undefined;
  readonly notAfter: string | undefined;
  /** The roots every new handshake trusts (the bootstrap roots until the trust bundle arrives). */
  readonly roots: readonly CertificateFields[];
  readonly issued: number;
  readonly failures: number;
  readonly lastError: string | undefined;
}

/** The trust domain a PEM root was issued for cannot be read from it; it comes from our own SVID. */
function trustDomainOf(spiffeId: string): string {
  return parseSpiffeId(spiffeId)?.trustDomain ?? 'cluster.local';
}

export class WorkloadIdentity {
  /** Roots and identity for gRPC channels to the control plane. */
  readonly provider = new MutableCertificateProvider();
  private readonly options: IdentityOptions;
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private rootsPem: string;
  private current: Current | undefined;
  private context: SecureContext | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly listeners = new Set<() => void>();
  private counts = { issued: 0, failures: 0, lastError: undefined as string | undefined };

  constructor(options: IdentityOptions) {
    this.options = options;
    this.rootsPem = options.bootstrapRootsPem;
    this.random = options.random ?? Math.random;
    this.backoff = new Backoff({ baseMs: 500, maxMs: 30_000, random: this.random });
    this.provider.setRoots(this.rootsPem);
  }

  /** Resolves once the first certificate is in hand (retrying for as long as it takes). */
  start(): Promise<void> {
    return new Promise((resolve) => {
      const ready = (): void => {
        this.listeners.delete(ready);
        resolve();
      };
      this.listeners.add(ready);
      void this.renew();
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Expiry of the certificate in use. */
  get notAfter(): Date | undefined {
    return this.current?.notAfter;
  }

  get spiffeId(): string | undefined {
    return this.current?.spiffeId;
  }

  /** The SPIFFE ID the control plane must present. */
  controlPlaneIdentity(): string {
    const { namespace, serviceAccount } = this.options.controlPlane;
    return `spiffe://${trustDomainOf(this.current?.spiffeId ?? '')}/ns/${namespace}/sa/${serviceAccount}`;
  }

  /** For every new client handshake: our key and chain, the mesh roots. */
  secureContext(): SecureContext {
    if (!this.context) throw new Error('no certificate yet');
    return this.context;
  }

  /** The same material as options, for tls.Server#setSecureContext (server side). */
  secureContextOptions(): SecureContextOptions {
    if (!this.current) throw new Error('no certificate yet');
    return { key: this.current.keyPem, cert: this.current.chainPem.join('\n'), ca: this.rootsPem, minVersion: 'TLSv1.2' };
  }

  /** Called after each change of certificate or roots. */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  /** Roots from the control plane's trust bundle replace the bootstrap roots. */
  setTrustBundle(rootsPem: readonly string[]): void {
    const joined = rootsPem.join('\n');
    if (rootsPem.length === 0 || joined === this.rootsPem) return;
    this.rootsPem = joined;
    this.options.log.info({ roots: rootsPem.length }, 'trust bundle updated');
    this.provider.setRoots(joined);
    this.rebuildContext();
  }

  status(): IdentityStatus {
    const leaf = this.current?.leaf;
    return {
      spiffeId: this.current?.spiffeId,
      subject: leaf?.subject,
      issuer: leaf?.issuer,
      serialNumber: leaf?.serialNumber,
      notBefore: leaf?.notBefore,
      notAfter: leaf?.notAfter,
      roots: parsePemCertificates(this.rootsPem).map(certificateFields),
      issued: this.counts.issued,
      failures: this.counts.failures,
      lastError: this.counts.lastError,
    };
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    try {
      const { keyPem, csrPem } = await generateKeyAndCsr();
      const token = (await readFile(this.options.tokenFile, 'utf8')).trim();
      const response = await requestCertificate({
        address: this.options.caAddress,
        rootsPem: this.rootsPem,
        controlPlaneIdentity: this.controlPlaneIdentity(),
        token,
        csrPem,
        ttlSeconds: this.options.ttlSeconds,
        proxyId: this.options.proxyId,
        timeoutMs: 10_000,
      });
      const leaf = inspectCertificate(response.certificateChainPem[0] ?? '');
      const spiffeId = leaf.spiffeIds[0];
      if (!spiffeId) throw new Error('the certificate service returned a certificate without a SPIFFE ID');
      this.current = { keyPem, chainPem: response.certificateChainPem, spiffeId, leaf: certificateFields(response.certificateChainPem[0] ?? ''), receivedAt: Date.now(), notAfter: leaf.notAfter };
      this.counts.issued++;
      this.counts.lastError = undefined;
      this.backoff.reset();
      if (response.trustBundlePem.length > 0 && this.counts.issued === 1) this.rootsPem = response.trustBundlePem.flatMap(parsePemCertificates).join('\n');
      this.provider.setRoots(this.rootsPem);
      this.provider.setIdentity(response.certificateChainPem.join('\n'), keyPem);
      this.rebuildContext();
      this.options.log.info({ identity: spiffeId, notAfter: leaf.notAfter.toISOString() }, 'certificate obtained');
      this.schedule(this.renewalDelayMs(this.current));
    } catch (error) {
      this.counts.failures++;
      this.counts.lastError = (error as Error).message;
      const remainingMs = (this.current?.notAfter.getTime() ?? Infinity) - Date.now();
      // Retry well before a still-valid certificate expires.
      const delay = Math.min(this.backoff.nextDelayMs(), Math.max(250, remainingMs / 4));
      this.options.log.warn({ error: (error as Error).message, retryInMs: delay, validForMs: Number.isFinite(remainingMs) ? remainingMs : null }, 'certificate request failed; keeping the current certificate');
      this.schedule(delay);
    }
  }

  /** About half the lifetime: uniformly between 40% and 60%, so proxies spread out. */
  private renewalDelayMs(current: Current): number {
    const lifetime = current.notAfter.getTime() - current.receivedAt;
    const at = current.receivedAt + lifetime * (0.4 + 0.2 * this.random());
    return Math.max(100, at - Date.now());
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.renew(), delayMs);
    this.timer.unref();
  }

  private rebuildContext(): void {
    if (!this.current) return;
    this.context = createSecureContext(this.secureContextOptions());
    for (const listener of [...this.listeners]) listener();
  }
}
