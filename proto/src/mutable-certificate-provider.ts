// A grpc-js CertificateProvider whose roots and identity can be replaced at any time: how the
// control plane's serving certificate and a proxy's client certificate rotate under live gRPC
// servers and channels (new handshakes use the new material; open connections stay).
import type { experimental } from '@grpc/grpc-js';

type Provider = experimental.CertificateProvider;
type CaListener = experimental.CaCertificateUpdateListener;
type IdentityListener = experimental.IdentityCertificateUpdateListener;

export class MutableCertificateProvider implements Provider {
  private roots: Buffer | null = null;
  private identity: { certificate: Buffer; privateKey: Buffer } | null = null;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();

  /** PEM roots (concatenated). */
  setRoots(pem: string): void {
    this.roots = Buffer.from(pem);
    for (const listener of this.caListeners) listener({ caCertificate: this.roots });
  }

  /** PEM certificate chain (leaf first) and PEM private key. */
  setIdentity(chainPem: string, keyPem: string): void {
    this.identity = { certificate: Buffer.from(chainPem), privateKey: Buffer.from(keyPem) };
    for (const listener of this.identityListeners) listener(this.identity);
  }

  // Current values are delivered on the next tick: grpc-js registers its own watcher only
  // after adding the listener, and would miss a synchronous call.
  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    process.nextTick(() => {
      if (this.roots && this.caListeners.has(listener)) listener({ caCertificate: this.roots });
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    process.nextTick(() => {
      if (this.identity && this.identityListeners.has(listener)) listener(this.identity);
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }
}
