// Composition of the sidecar: identity (certificate service -> WorkloadIdentity), configuration
// (xDS client -> ConfigStore), the outbound stack (route table -> cluster manager -> pools), the
// inbound stack (sniffing listener -> authorization -> app), and the admin and stats ports.
import { once } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { credentials, experimental } from '@grpc/grpc-js';
import { resourceKindsInPushOrder } from '@weft/proto';
import { formatHostPort, logListening, type HostPort, type Logger } from '@weft/runtime';
import { createAdminServer } from './admin/admin-server.ts';
import { createHealthServer } from './admin/health-server.ts';
import { ConfigStore } from './config/config-store.ts';
import type { Completion } from './http/exchange.ts';
import type { RequestContext } from './http/handler.ts';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './http/request-limits.ts';
import { createHttp1Server, type ServeOptions } from './http/serve-http1.ts';
import { createHttp2Server } from './http/serve-http2.ts';
import { CONTROL_PLANE_CHANNEL_OPTIONS } from './identity/certificate-client.ts';
import { spiffeVerifier } from './identity/spiffe-verifier.ts';
import { WorkloadIdentity, type IdentityOptions } from './identity/workload-identity.ts';
import { Authorizer } from './inbound/authorization.ts';
import { InboundAdmission } from './inbound/inbound-admission.ts';
import { inboundHandler } from './inbound/inbound-handler.ts';
import { attachInboundUpgrade, serveOpaqueTcp, serveTcpTunnel } from './inbound/inbound-tunnels.ts';
import { createInboundListener } from './inbound/inbound-listener.ts';
import { ConnectionDrain } from './inbound/connection-drain.ts';
import { countingStreams, InFlight } from './http/in-flight.ts';
import { connectionOf } from './http/connection-info.ts';
import { createStatsServer, ProxyMetrics, type ProxyStateSource } from './metrics/proxy-metrics.ts';
import { ACCESS_LOG_OFF, AccessLog, type AccessLogMode } from './observability/access-log.ts';
import { telemetryLayer } from './observability/request-telemetry.ts';
import { ClusterManager } from './outbound/concrete/cluster-manager.ts';
import { UpstreamPools } from './outbound/endpoint/upstream-pools.ts';
import { RouteTable } from './outbound/logical/route-table.ts';
import { OnDemandDiscovery } from './xds/on-demand-discovery.ts';
import { createOutboundListener, type OutboundTrafficPolicy } from './outbound/outbound-listener.ts';
import { attachOutboundTunnels, serveCapturedTcp } from './outbound/tunnels.ts';
import { OtlpHttpExporter } from './tracing/otlp-exporter.ts';
import { Sampler } from './tracing/sampler.ts';
import { Tracer } from './tracing/tracer.ts';
import { DEFAULT_TRACING, type TracingOptions } from './tracing/tracing-options.ts';
import { AdsClient } from './xds/ads-client.ts';

export const PROXY_VERSION = '0.1.0';

export interface ProxyOptions {
  readonly workload: string;
  readonly namespace: string;
  readonly xdsAddress: HostPort;
  readonly outboundAddress: HostPort;
  readonly inboundAddress: HostPort;
  readonly adminAddress: HostPort;
  readonly statsAddress: HostPort;
  /** Readiness for the kubelet's probe. */
  readonly healthAddress: HostPort;
  /** Where the local application listens (its ports come from configuration). */
  readonly appHost: string;
  readonly log: Logger;
  /** With an identity the proxy speaks mTLS to peers and xDS over TLS; without, plaintext (development). */
  readonly identity?: Omit<IdentityOptions, 'log' | 'proxyId'>;
  readonly xdsBackoff?: { readonly baseMs: number; readonly maxMs: number };
  /** What captured connections to destinations outside the mesh get; default ALLOW_ANY. */
  readonly outboundTrafficPolicy?: OutboundTrafficPolicy;
  /** Trace propagation always happens; spans are exported with an OTLP endpoint. */
  readonly tracing?: TracingOptions;
  /** Default off. */
  readonly accessLog?: AccessLogMode;
  /** Default on-demand: only the services the workload calls (docs/architecture.md, "On-demand discovery"). */
  readonly discovery?: DiscoveryMode;
  /** What callers may send on both listeners; DEFAULT_HTTP_LIMITS when absent. */
  readonly httpLimits?: HttpLimits;
}

export const DISCOVERY_MODES = ['on-demand', 'all'] as const;
export type DiscoveryMode = (typeof DISCOVERY_MODES)[number];

/**
 * How long a draining sidecar waits, once inbound is idle, for its application's outbound calls
 * to stop: nothing in flight outbound for this long is taken to mean the application is done.
 */
export const OUTBOUND_QUIET_MS = 1000;

export type BoundProxy = Record<'outbound' | 'inbound' | 'admin' | 'stats' | 'health', HostPort>;

async function listen(server: Server, name: string, address: HostPort, log: Logger): Promise<HostPort> {
  server.listen(address.port, address.host);
  await once(server, 'listening');
  const bound = { host: address.host, port: (server.address() as AddressInfo).port };
  logListening(log, name, bound);
  return bound;
}

export class Proxy {
  readonly store = new ConfigStore();
  readonly metrics: ProxyMetrics;
  readonly identity: WorkloadIdentity | undefined;
  readonly tracer: Tracer;
  private readonly accessLog: AccessLog;
  private readonly options: ProxyOptions;
  private readonly outboundPools: UpstreamPools;
  private readonly inboundPools = new UpstreamPools();
  private readonly ads: AdsClient;
  /** The HTTP servers behind the outbound and inbound listeners, fed connections by them. */
  private readonly protocolServers: { close(): void }[];
  private readonly servers: Record<keyof BoundProxy, Server>;
  /** Outbound exchanges and tunnels in flight: the application calling out. */
  private readonly outboundInFlight = new InFlight();
  private readonly inboundConnections: ConnectionDrain;
  private draining = false;

  constructor(options: ProxyOptions) {
    this.options = options;
    const { log, workload, namespace } = options;
    const identity = options.identity && new WorkloadIdentity({ ...options.identity, proxyId: `${workload}.${namespace}`, log: log.child({ module: 'identity' }) });
    this.identity = identity;
    this.outboundPools = new UpstreamPools({ identity });
    const discovery = (options.discovery ?? 'on-demand') === 'on-demand' ? new OnDemandDiscovery(this.store) : undefined;
    this.ads = new AdsClient({
      onDemand: discovery,
      address: options.xdsAddress,
      node: () => ({ workload, namespace, proxyVersion: PROXY_VERSION, adminAddress: formatHostPort({ host: options.adminAddress.host, port: this.boundPort('admin') }) }),
      store: this.store,
      log: log.child({ module: 'xds' }),
      backoff: options.xdsBackoff,
      credentials: identity
        ? () =>
            experimental.createCertificateProviderChannelCredentials(identity.provider, identity.provider, {
              // Read when connecting: the trust domain is known once our certificate is.
              checkServerIdentity: (host, certificate) => spiffeVerifier([identity.controlPlaneIdentity()])(host, certificate),
            })
        : () => credentials.createInsecure(),
      channelOptions: identity ? CONTROL_PLANE_CHANNEL_OPTIONS : undefined,
    });
    if (identity) {
      this.store.onChange((kind) => {
        if (kind === 'trustBundle') identity.setTrustBundle([...this.store.values('trustBundle').values()].flatMap((bundle) => bundle.rootsPem));
      });
    }
    const clusters = new ClusterManager(this.store, this.outboundPools, `${workload}.${namespace}`);
    this.metrics = new ProxyMetrics(this.metricsSource(clusters));
    const routes = new RouteTable(this.store, clusters.dispatch, clusters, discovery);
    const tracing = options.tracing ?? DEFAULT_TRACING;
    const exporter =
      tracing.otlpEndpoint &&
      new OtlpHttpExporter({ endpoint: tracing.otlpEndpoint, resource: { workload, namespace, proxyVersion: PROXY_VERSION }, settings: tracing.batch, log: log.child({ module: 'tracing' }) });
    this.tracer = new Tracer(new Sampler(tracing.samplingPercent), exporter);
    this.metrics.observeTracing(() => this.tracer.counters());
    this.accessLog = new AccessLog(options.accessLog ?? ACCESS_LOG_OFF);
    this.metrics.observeAccessLog(() => this.accessLog.linesDropped);
    const onComplete = (completion: Completion): void => {
      this.metrics.record(completion);
      this.tracer.finish(completion);
      this.accessLog.record(completion);
    };
    // First in both stacks: request id, trace headers, and what spans and access logs report.
    const observed = telemetryLayer(this.tracer);
    const admission = new InboundAdmission(this.store, new Authorizer(this.store), `${workload}.${namespace}`);
    const limits = options.httpLimits ?? DEFAULT_HTTP_LIMITS;
    const outbound: ServeOptions = { direction: 'outbound', handler: observed(routes.handler), log, onComplete, connectionOf, inFlight: this.outboundInFlight, limits };
    const inbound: ServeOptions = {
      direction: 'inbound',
      limits,
      handler: observed(inboundHandler({ admission, pools: this.inboundPools, appHost: options.appHost, workload: `${workload}.${namespace}`, trustPlaintextMetadata: !identity })),
      log,
      onComplete,
      connectionOf,
    };
    const outboundServers = { http1: createHttp1Server(outbound), http2: createHttp2Server(outbound) };
    const inboundServers = { http1: createHttp1Server(inbound), http2: createHttp2Server(inbound) };
    const outboundTunnels = {
      routes,
      clusters,
      log,
      streams: countingStreams(this.outboundInFlight, this.metrics),
      onComplete: (context: RequestContext, status: number, flag: string) => onComplete({ context, status, flag, durationSeconds: Number(process.hrtime.bigint() - context.startedAt) / 1e9 }),
    };
    attachOutboundTunnels(outboundServers.http1, outboundTunnels);
    const tunnels = { admission, appHost: options.appHost, log, connectionOf, workload: `${workload}.${namespace}`, streams: this.metrics };
    attachInboundUpgrade(inboundServers.http1, tunnels);
    this.inboundConnections = new ConnectionDrain(inboundServers);
    this.protocolServers = [outboundServers.http1, outboundServers.http2, inboundServers.http1, inboundServers.http2];
    this.servers = {
      outbound: createOutboundListener({
        ...outboundServers,
        routes,
        tcp: (socket, destination, connection) => serveCapturedTcp(socket, destination, connection, outboundTunnels),
        policy: options.outboundTrafficPolicy ?? 'ALLOW_ANY',
        listenerPort: () => this.boundPort('outbound'),
        log,
      }),
      inbound: createInboundListener({
        ...inboundServers,
        tcp: (socket, connection) => serveTcpTunnel(socket, connection, tunnels),
        opaque: {
          port: () => this.singleTcpPort(),
          isTcp: (port) => this.store.values('listener').get(`inbound|${port}`)?.protocol === 'TCP',
          serve: (socket, port) => serveOpaqueTcp(socket, connectionOf(socket), port, Buffer.alloc(0), tunnels),
        },
        listenerPort: () => this.boundPort('inbound'),
        identity,
        plaintextAllowed: () => this.plaintextAllowed(),
        log,
      }),
      admin: createAdminServer({ store: this.store, ads: this.ads, clusters, identity: { workload, namespace }, workloadIdentity: identity, metrics: this.metrics, log, draining: () => this.draining }),
      stats: createStatsServer(this.metrics),
      health: createHealthServer({ store: this.store, identity, draining: () => this.draining }),
    };
  }

  private metricsSource(clusters: ClusterManager): ProxyStateSource {
    const { workload, namespace } = this.options;
    return {
      local: { workload, namespace, principal: () => this.identity?.spiffeId },
      clusters: () =>
        clusters.clusters().map((cluster) => ({
          name: cluster.config.name,
          overflows: cluster.breaker.overflows,
          retries: cluster.retriesStarted,
          retriesRefused: cluster.retriesRefused,
          ejectionsTotal: cluster.outlier?.ejectionsTotal ?? 0,
          ejectedNow: cluster.endpoints.filter(({ health }) => health.ejectedUntil !== undefined && health.ejectedUntil > Date.now()).length,
        })),
      certificateNotAfter: () => this.identity?.notAfter?.getTime(),
      configVersions: () => resourceKindsInPushOrder.map((kind) => [kind, this.store.version(kind)] as const).filter(([, version]) => version !== ''),
      xds: () => this.ads.status(),
    };
  }

  private boundPort(listener: keyof BoundProxy): number {
    return (this.servers[listener].address() as AddressInfo | null)?.port ?? 0;
  }

  /** The workload's TCP port, when it has exactly one: where opaque plaintext can only be meant for. */
  private singleTcpPort(): number | undefined {
    const tcp = [...this.store.values('listener').values()].filter((listener) => listener.protocol === 'TCP');
    return tcp.length === 1 ? tcp[0]?.port : undefined;
  }

  /** Plaintext connections are refused outright once every inbound port is STRICT. */
  private plaintextAllowed(): boolean {
    if (!this.identity) return true;
    if (this.store.version('listener') === '') return true;
    return [...this.store.values('listener').values()].some((listener) => listener.tlsMode !== 'STRICT');
  }

  async start(): Promise<BoundProxy> {
    const { log } = this.options;
    // Listeners first: until configuration (and a certificate) arrive, they answer 503.
    const bound = {
      outbound: await listen(this.servers.outbound, 'outbound', this.options.outboundAddress, log),
      inbound: await listen(this.servers.inbound, 'inbound', this.options.inboundAddress, log),
      admin: await listen(this.servers.admin, 'admin', this.options.adminAddress, log),
      stats: await listen(this.servers.stats, 'stats', this.options.statsAddress, log),
      health: await listen(this.servers.health, 'health', this.options.healthAddress, log),
    };
    // xDS over TLS needs our certificate; without an identity it starts at once.
    if (this.identity) void this.identity.start().then(() => this.ads.start());
    else this.ads.start();
    return bound;
  }

  /**
   * Graceful shutdown, up to `deadlineMs`: readiness fails at once, the inbound listener stops
   * accepting, HTTP/2 peers get GOAWAY and HTTP/1.1 peers `Connection: close`, requests in
   * flight finish; outbound keeps working. Resolves when inbound has no connection left and
   * nothing has been in flight outbound for OUTBOUND_QUIET_MS (the application is done), or at
   * the deadline, whichever comes first. `stop` then closes what remains.
   */
  async drain(deadlineMs: number): Promise<'idle' | 'deadline'> {
    const { log } = this.options;
    this.draining = true;
    log.info({ deadlineMs }, 'draining');
    const inboundClosed = new Promise<void>((resolve) => this.servers.inbound.close(() => resolve()));
    this.inboundConnections.start();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      inboundClosed.then(() => this.outboundInFlight.quiet(OUTBOUND_QUIET_MS)).then(() => 'idle' as const),
      new Promise<'deadline'>((resolve) => (timer = setTimeout(() => resolve('deadline'), deadlineMs))),
    ]);
    clearTimeout(timer);
    const inboundConnections = await new Promise<number>((resolve) => this.servers.inbound.getConnections((_error, count) => resolve(count)));
    log.info({ outcome, inboundConnections, outboundInFlight: this.outboundInFlight.active }, 'drained');
    return outcome;
  }

  async stop(): Promise<void> {
    this.identity?.stop();
    this.ads.stop();
    for (const server of [...Object.values(this.servers), ...this.protocolServers]) server.close();
    for (const server of [this.servers.admin, this.servers.stats, this.servers.health] as HttpServer[]) server.closeIdleConnections();
    await Promise.all([this.outboundPools.destroy(), this.inboundPools.destroy(), this.tracer.close()]);
    this.accessLog.flush();
  }
}
