// Composition of the control plane: registry -> (debounced) translator -> ADS server; with a
// CA, the TLS port (certificate service + xDS for proxies holding mesh certificates); and the
// debug endpoint, which also serves the metrics.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { experimental, Server as GrpcServer, ServerCredentials, status } from '@grpc/grpc-js';
import { peerIdentity, type CertificateAuthority } from '@weft/ca';
import { aggregatedDiscoveryService, certificateService } from '@weft/proto';
import { formatHostPort, logListening, type HostPort, type Logger } from '@weft/runtime';
import type { Authenticator } from './ca/authenticator.ts';
import { caStatus } from './ca/ca-status.ts';
import { certificateServiceImplementation, type IssuanceStats } from './ca/certificate-service.ts';
import { IssuedCertificates } from './ca/issued-certificates.ts';

import { RateLimiter } from './ca/rate-limiter.ts';
import { ServingIdentity } from './ca/serving-identity.ts';
import { createDebugServer } from './debug-server.ts';
import { ControlPlaneMetrics } from './metrics/controlplane-metrics.ts';
import type { MeshModel } from './model/mesh-model.ts';
import type { MeshRegistry } from './registry/mesh-registry.ts';
import { AdsServer, type NodeCheck } from './xds/ads-server.ts';
import { Debouncer } from './xds/debounce.ts';
import { SnapshotTranslator, type TrustBundle } from './xds/translate.ts';

export interface IdentityOptions {
  readonly ca: CertificateAuthority;
  readonly authenticator: Authenticator;
  /** TLS port: certificate service, and xDS for proxies with a mesh certificate. */
  readonly secureAddress: HostPort;
  /** Certificates per identity: a burst, refilled at a rate. */
  readonly issuanceLimit?: { readonly burst: number; readonly perSecond: number };
}

export interface ControlPlaneOptions {
  readonly registry: MeshRegistry;
  readonly log: Logger;
  /** Plaintext xDS (development); undefined disables it. */
  readonly xdsAddress: HostPort | undefined;
  readonly debugAddress: HostPort;
  readonly identity?: IdentityOptions;
  /** Quiet period and longest delay before a burst of changes is pushed. */
  readonly debounce?: { readonly quietMs: number; readonly maxDelayMs: number };
  /** Shared with the registry (made by the caller) so that it counts into the same /metrics; a new one when absent. */
  readonly metrics?: ControlPlaneMetrics;
}

export interface BoundAddresses {
  readonly xds: HostPort | undefined;
  readonly secure: HostPort | undefined;
  readonly debug: HostPort;
}

const KEEPALIVE = { 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000 };

function bind(server: GrpcServer, address: HostPort, credentials: ServerCredentials): Promise<HostPort> {
  return new Promise((resolve, reject) => {
    server.bindAsync(formatHostPort(address), credentials, (error, port) => (error ? reject(error) : resolve({ host: address.host, port })));
  });
}

export class ControlPlane {
  readonly ads: AdsServer;
  readonly issuance: IssuanceStats = { issued: 0, refused: {} };
  readonly metrics: ControlPlaneMetrics;
  private readonly issuedCertificates = new IssuedCertificates();
  private readonly options: ControlPlaneOptions;
  private readonly servers: GrpcServer[] = [];
  private readonly debug;
  private readonly debouncer: Debouncer;
  private readonly trustBundle: TrustBundle | undefined;
  private servingIdentity: ServingIdentity | undefined;
  private pending: MeshModel | undefined;
  /** When the first registry change of the pending burst was seen (performance.now()). */
  private pendingSince: number | undefined;
  private ready = false;

  constructor(options: ControlPlaneOptions) {
    this.options = options;
    this.metrics = options.metrics ?? new ControlPlaneMetrics();
    this.ads = new AdsServer({ log: options.log.child({ module: 'ads' }), metrics: this.metrics.xds });
    const ca = options.identity?.ca;
    this.trustBundle = ca && { trustDomain: ca.trustDomain, rootsPem: ca.trustBundle() };
    this.debug = createDebugServer({ ads: this.ads, registry: options.registry, ready: () => this.ready, ca: ca && (() => caStatus(ca, this.issuance, this.issuedCertificates)), metrics: this.metrics });
    this.debouncer = new Debouncer(options.debounce ?? { quietMs: 100, maxDelayMs: 10_000 }, () => this.publishPending());
  }

  async start(): Promise<BoundAddresses> {
    const { registry, log } = this.options;
    // The debug port first: it answers (503 on /ready) while the registry makes its first sync,
    // which against a Kubernetes API server can take a while.
    this.debug.listen(this.options.debugAddress.port, this.options.debugAddress.host);
    await once(this.debug, 'listening');
    const debug = { host: this.options.debugAddress.host, port: (this.debug.address() as AddressInfo).port };
    logListening(log, 'debug', debug);
    this.ads.publish(new SnapshotTranslator(await registry.start(), this.trustBundle));
    registry.onModel((model) => {
      this.pending = model;
      this.pendingSince ??= performance.now();
      this.debouncer.trigger();
    });
    let xds: HostPort | undefined;
    if (this.options.xdsAddress) {
      const server = new GrpcServer(KEEPALIVE);
      server.addService(aggregatedDiscoveryService, this.ads.implementation());
      this.servers.push(server);
      xds = await bind(server, this.options.xdsAddress, ServerCredentials.createInsecure());
      logListening(log, 'xds', xds);
    }
    const secure = this.options.identity && (await this.startSecure(this.options.identity));
    this.ready = true;
    return { xds, secure, debug };
  }

  private async startSecure(identity: IdentityOptions): Promise<HostPort> {
    const { log } = this.options;
    this.servingIdentity = new ServingIdentity({ ca: identity.ca, log: log.child({ module: 'ca' }) });
    await this.servingIdentity.start();
    const server = new GrpcServer(KEEPALIVE);
    server.addService(
      certificateService,
      certificateServiceImplementation({
        ca: () => identity.ca,
        authenticator: identity.authenticator,
        limiter: new RateLimiter(identity.issuanceLimit ?? { burst: 20, perSecond: 2 }),
        log: log.child({ module: 'ca' }),
        stats: this.issuance,
        metrics: this.metrics.issuance,
        issued: this.issuedCertificates,
      }),
    );
    server.addService(aggregatedDiscoveryService, this.ads.implementation(this.nodeCheck(identity.ca.trustDomain)));
    this.servers.push(server);
    const provider = this.servingIdentity.provider;
    // Client certificates are asked for and verified when sent, but optional: a proxy asks the
    // certificate service for its first one on this same port. xDS then insists on one.
    const bound = await bind(server, identity.secureAddress, experimental.createCertificateProviderServerCredentials(provider, provider, false));
    logListening(log, 'secure', bound);
    return bound;
  }

  /** On the TLS port a stream speaks only for a workload in its certificate's namespace and service account. */
  private nodeCheck(trustDomain: string): NodeCheck {
    return (call, node) => {
      const peer = peerIdentity(call.getAuthContext()?.sslPeerCertificate);
      if (!peer || peer.trustDomain !== trustDomain) {
        return { code: status.UNAUTHENTICATED, message: 'xDS on this port needs a client certificate of this mesh (from the certificate service)' };
      }
      if (peer.namespace !== node.namespace) {
        return { code: status.PERMISSION_DENIED, message: `${peer.spiffeId} cannot speak for a workload in namespace ${node.namespace ?? ''}` };
      }
      const workload = this.options.registry.current().workloads.get(`${node.workload ?? ''}.${node.namespace}`);
      if (workload && workload.serviceAccount !== peer.serviceAccount) {
        return { code: status.PERMISSION_DENIED, message: `${peer.spiffeId} cannot speak for ${node.workload ?? ''}, which runs as service account ${workload.serviceAccount}` };
      }
      return undefined;
    };
  }

  async stop(): Promise<void> {
    this.ready = false;
    this.debouncer.cancel();
    this.servingIdentity?.stop();
    this.options.registry.stop();
    this.debug.close();
    // Proxies hold their streams open for good: give them a moment, then end the streams.
    await Promise.all(
      this.servers.map(async (server) => {
        const force = setTimeout(() => server.forceShutdown(), 1000);
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        clearTimeout(force);
      }),
    );
  }

  private publishPending(): void {
    if (!this.pending) return;
    const model = this.pending;
    const changedAt = this.pendingSince;
    this.pending = undefined;
    this.pendingSince = undefined;
    this.options.log.info({ services: model.services.size, workloads: model.workloads.size, proxies: this.ads.status().length }, 'pushing new configuration');
    this.ads.publish(new SnapshotTranslator(model, this.trustBundle), changedAt);
  }
}
