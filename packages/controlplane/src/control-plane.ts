// Composition of the control plane: registry -> (debounced) translator -> ADS server, plus
// the debug endpoint.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';
import { aggregatedDiscoveryService } from '@weft/proto';
import { formatHostPort, logListening, type HostPort, type Logger } from '@weft/runtime';
import { createDebugServer } from './debug-server.ts';
import type { MeshModel } from './model/mesh-model.ts';
import type { MeshRegistry } from './registry/mesh-registry.ts';
import { AdsServer } from './xds/ads-server.ts';
import { Debouncer } from './xds/debounce.ts';
import { SnapshotTranslator } from './xds/translate.ts';

export interface ControlPlaneOptions {
  readonly registry: MeshRegistry;
  readonly log: Logger;
  readonly xdsAddress: HostPort;
  readonly debugAddress: HostPort;
  /** Quiet period and longest delay before a burst of changes is pushed. */
  readonly debounce?: { readonly quietMs: number; readonly maxDelayMs: number };
}

export interface BoundAddresses {
  readonly xds: HostPort;
  readonly debug: HostPort;
}

export class ControlPlane {
  readonly ads: AdsServer;
  private readonly options: ControlPlaneOptions;
  private readonly grpc = new GrpcServer({ 'grpc.keepalive_time_ms': 30_000, 'grpc.keepalive_timeout_ms': 10_000 });
  private readonly debug;
  private readonly debouncer: Debouncer;
  private pending: MeshModel | undefined;
  private ready = false;

  constructor(options: ControlPlaneOptions) {
    this.options = options;
    this.ads = new AdsServer({ log: options.log.child({ module: 'ads' }) });
    this.debug = createDebugServer({ ads: this.ads, registry: options.registry, ready: () => this.ready });
    this.debouncer = new Debouncer(options.debounce ?? { quietMs: 100, maxDelayMs: 10_000 }, () => this.publishPending());
  }

  async start(): Promise<BoundAddresses> {
    const { registry, log } = this.options;
    this.ads.publish(new SnapshotTranslator(await registry.start()));
    registry.onModel((model) => {
      this.pending = model;
      this.debouncer.trigger();
    });
    this.grpc.addService(aggregatedDiscoveryService, this.ads.implementation);
    const xdsPort = await new Promise<number>((resolve, reject) => {
      this.grpc.bindAsync(formatHostPort(this.options.xdsAddress), ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port)));
    });
    const xds = { host: this.options.xdsAddress.host, port: xdsPort };
    logListening(log, 'xds', xds);
    this.debug.listen(this.options.debugAddress.port, this.options.debugAddress.host);
    await once(this.debug, 'listening');
    const debug = { host: this.options.debugAddress.host, port: (this.debug.address() as AddressInfo).port };
    logListening(log, 'debug', debug);
    this.ready = true;
    return { xds, debug };
  }

  async stop(): Promise<void> {
    this.ready = false;
    this.debouncer.cancel();
    this.options.registry.stop();
    this.debug.close();
    // Proxies hold their streams open for good: give them a moment, then end the streams.
    const force = setTimeout(() => this.grpc.forceShutdown(), 1000);
    await new Promise<void>((resolve) => this.grpc.tryShutdown(() => resolve()));
    clearTimeout(force);
  }

  private publishPending(): void {
    if (!this.pending) return;
    const model = this.pending;
    this.pending = undefined;
    this.options.log.info({ services: model.services.size, workloads: model.workloads.size, proxies: this.ads.status().length }, 'pushing new configuration');
    this.ads.publish(new SnapshotTranslator(model));
  }
}
