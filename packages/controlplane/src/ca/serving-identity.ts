// The control plane's own certificate for its TLS port (15012): issued by its CA for
// spiffe://<trust domain>/ns/<namespace>/sa/<service account>, renewed at half its lifetime,
// and handed, with the trust bundle, to the gRPC server's certificate provider.
import type { CertificateAuthority, WorkloadIdentity } from '@weft/ca';
import { MutableCertificateProvider } from '@weft/proto';
import type { Logger } from '@weft/runtime';

export const CONTROL_PLANE_IDENTITY: WorkloadIdentity = { namespace: 'weft-system', serviceAccount: 'weft-controlplane' };

export class ServingIdentity {
  readonly provider = new MutableCertificateProvider();
  private readonly ca: CertificateAuthority;
  private readonly log: Logger;
  private readonly ttlSeconds: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: { ca: CertificateAuthority; log: Logger; ttlSeconds?: number }) {
    this.ca = options.ca;
    this.log = options.log;
    this.ttlSeconds = options.ttlSeconds ?? 24 * 3600;
  }

  async start(): Promise<void> {
    await this.renew();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private async renew(): Promise<void> {
    const issued = await this.ca.issue(CONTROL_PLANE_IDENTITY, { ttlSeconds: this.ttlSeconds });
    this.provider.setRoots(this.ca.trustBundle().join('\n'));
    this.provider.setIdentity(issued.chainPem.join('\n'), issued.keyPem);
    const lifetime = issued.notAfter.getTime() - Date.now();
    this.log.info({ identity: issued.spiffeId, notAfter: issued.notAfter.toISOString() }, 'serving certificate issued');
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
