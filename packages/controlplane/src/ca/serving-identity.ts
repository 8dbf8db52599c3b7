// The control plane's own certificates, from its CA: for the TLS port (15012) a certificate for
// spiffe://<trust domain>/ns/<namespace>/sa/<service account>, handed with the trust bundle to
// the gRPC server's certificate provider; for the injection webhook (15017) the same identity
// with the Service's DNS names, which the API server checks. Renewed at half their lifetime.
import type { CertificateAuthority, IssuedCertificate, WorkloadIdentity } from '@weft/ca';
import { MutableCertificateProvider } from '@weft/proto';
import type { Logger } from '@weft/runtime';

export const CONTROL_PLANE_IDENTITY: WorkloadIdentity = { namespace: 'weft-system', serviceAccount: 'weft-controlplane' };

export class ServingIdentity {
  readonly provider = new MutableCertificateProvider();
  private readonly ca: CertificateAuthority;
  private readonly log: Logger;
  private readonly ttlSeconds: number;
  private readonly dnsNames: readonly string[] | undefined;
  private readonly listeners = new Set<(issued: IssuedCertificate & { readonly keyPem: string }) => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(options: { ca: CertificateAuthority; log: Logger; ttlSeconds?: number; dnsNames?: readonly string[] }) {
    this.ca = options.ca;
    this.log = options.log;
    this.ttlSeconds = options.ttlSeconds ?? 24 * 3600;
    this.dnsNames = options.dnsNames;
  }

  /** Called with every certificate issued, the first one included. */
  onIssued(listener: (issued: IssuedCertificate & { readonly keyPem: string }) => void): void {
    this.listeners.add(listener);
  }

  async start(): Promise<void> {
    await this.renew();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private async renew(): Promise<void> {
    const issued = await this.ca.issue(CONTROL_PLANE_IDENTITY, { ttlSeconds: this.ttlSeconds, dnsNames: this.dnsNames });
    this.provider.setRoots(this.ca.trustBundle().join('\n'));
    this.provider.setIdentity(issued.chainPem.join('\n'), issued.keyPem);
    for (const listener of this.listeners) listener(issued);
    const lifetime = issued.notAfter.getTime() - Date.now();
    this.log.info({ identity: issued.spiffeId, dnsNames: this.dnsNames, notAfter: issued.notAfter.toISOString() }, 'serving certificate issued');
    this.schedule(Math.max(1000, lifetime / 2));
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.renew().catch((error: unknown) => {
        this.log.error({ err: error }, 'serving certificate renewal failed; retrying in 10 s');
        this.schedule(10_000);
      });
    }, delayMs);
    this.timer.unref();
  }
}
