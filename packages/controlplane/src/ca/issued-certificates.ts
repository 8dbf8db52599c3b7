// Which proxy holds which certificate, as the certificate service issued them: the latest one
// per proxy id, until it expires. `weft check` reads it (through /debug/ca) to find proxies
// whose renewal is overdue without reaching into every pod. Public fields only.
import type { IssuedCertificate } from '@weft/ca';

export interface IssuedCertificateRecord {
  /** The node id the proxy gave ("<workload>.<namespace>"). */
  readonly proxy: string;
  readonly spiffeId: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuedAt: string;
}

/** A node id: "<workload>.<namespace>", DNS-label characters, bounded. */
const PROXY_ID = /^[a-z0-9]([-a-z0-9.]{0,315}[a-z0-9])?$/;

export class IssuedCertificates {
  private readonly byProxy = new Map<string, IssuedCertificateRecord>();

  /**
   * Records `issued` as `proxyId`'s certificate. The id is the caller's claim, so it is kept only
   * when it is well formed and in the namespace the caller's token proved; it grants nothing.
   */
  record(proxyId: string, namespace: string, issued: IssuedCertificate, now = new Date()): void {
    if (!PROXY_ID.test(proxyId) || !proxyId.endsWith(`.${namespace}`)) return;
    for (const [proxy, record] of this.byProxy) if (Date.parse(record.notAfter) <= now.getTime()) this.byProxy.delete(proxy);
    this.byProxy.set(proxyId, {
      proxy: proxyId,
      spiffeId: issued.spiffeId,
      serialNumber: issued.serialNumber,
      notBefore: issued.notBefore.toISOString(),
      notAfter: issued.notAfter.toISOString(),
      issuedAt: now.toISOString(),
    });
  }

  list(): IssuedCertificateRecord[] {
    return [...this.byProxy.values()].sort((a, b) => (a.proxy < b.proxy ? -1 : 1));
  }
}
