// The proxy's end of the aggregated discovery stream. It subscribes to every resource type in
// push order, applies each response to the ConfigStore, and answers with an ACK or a NACK
// (error_detail, plus the version it keeps). When the stream fails it keeps the configuration
// it has and reconnects with backoff, telling the server which versions it holds.
import { Client, status as GrpcStatus, type ChannelCredentials, type ClientDuplexStream } from '@grpc/grpc-js';
import {
  DiscoveryRequest,
  resourceKindOf,
  resourceKindsInPushOrder,
  ResourceType,
  streamResourcesMethod,
  type DiscoveryResponse,
  type ResourceKind,
} from '@weft/proto';
import { formatHostPort, type HostPort, type Logger } from '@weft/runtime';
import type { ConfigStore } from '../config/config-store.ts';
import { InvalidResourceError } from '../config/resources/invalid-resource.ts';
import { Backoff } from './backoff.ts';
import type { OnDemandDiscovery } from './on-demand-discovery.ts';

export interface NodeIdentity {
  readonly workload: string;
  readonly namespace: string;
  readonly proxyVersion: string;
  /** "host:port" of the admin endpoint, for `weft proxy-config`. */
  readonly adminAddress: string;
}

export interface AdsClientOptions {
  readonly address: HostPort;
  /** Read at each connection: the admin address is only known once its listener is bound. */
  readonly node: () => NodeIdentity;
  readonly store: ConfigStore;
  /** Routes, clusters and endpoints by name, as the workload needs them; without it, everything. */
  readonly onDemand?: OnDemandDiscovery;
  readonly log: Logger;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** TLS with the proxy's certificate, or plaintext (development). */
  readonly credentials: () => ChannelCredentials;
  readonly channelOptions?: Record<string, string>;
}

export interface AdsClientStatus {
  readonly connected: boolean;
  readonly controlPlane: string | undefined;
  readonly reconnects: number;
  readonly rejected: number;
  readonly lastRejection: { readonly kind: ResourceKind; readonly version: string; readonly message: string } | undefined;
}

type Stream = ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;

/** How this proxy last answered a response of one type on the current stream. */
interface LastAnswer {
  readonly nonce: string;
  readonly errorDetail: { code: number; message: string } | undefined;
}

export class AdsClient {
  private readonly options: AdsClientOptions;
  private readonly client: Client;
  private readonly backoff: Backoff;
  private stream: Stream | undefined;
  private readonly lastAnswers = new Map<string, LastAnswer>();
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private state: { connected: boolean; controlPlane: string | undefined; reconnects: number; rejected: number; lastRejection: AdsClientStatus['lastRejection'] } = {
    connected: false,
    controlPlane: undefined,
    reconnects: 0,
    rejected: 0,
    lastRejection: undefined,
  };

  constructor(options: AdsClientOptions) {
    this.options = options;
    this.backoff = new Backoff(options.backoff ?? { baseMs: 250, maxMs: 5000 });
    this.client = new Client(formatHostPort(options.address), options.credentials(), {
      'grpc.keepalive_time_ms': 15_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
      // We back off ourselves; keep the channel's own reconnect delay short and bounded.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      ...options.channelOptions,
    });
    options.onDemand?.onSubscriptionChange((kind) => this.resubscribe(kind));
  }

  status(): AdsClientStatus {
    return { ...this.state };
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.stream?.cancel();
    this.client.close();
  }

  private connect(): void {
    const { store, log } = this.options;
    const node = this.options.node();
    const stream: Stream = this.client.makeBidiStreamRequest(streamResourcesMethod.path, streamResourcesMethod.requestSerialize, streamResourcesMethod.responseDeserialize);
    this.stream = stream;
    this.lastAnswers.clear();
    let received = false;
    stream.on('data', (response: DiscoveryResponse) => {
      if (!received) {
        received = true;
        this.backoff.reset();
        this.state.connected = true;
        this.state.controlPlane = response.controlPlane;
        log.info({ controlPlane: response.controlPlane }, 'connected to control plane');
      }
      this.handle(stream, response);
    });
    stream.on('error', (error: Error & { code?: number }) => {
      if (this.stream !== stream) return;
      if (error.code !== GrpcStatus.CANCELLED || !this.stopped) log.warn({ code: error.code, error: error.message }, 'control plane stream failed; keeping current configuration');
      this.retry(stream);
    });
    stream.on('end', () => this.retry(stream));
    // Subscribe in push order; the first request names this proxy. A version we hold lets a
    // restarted control plane skip re-sending what is already in force.
    for (const [index, kind] of resourceKindsInPushOrder.entries()) {
      stream.write(
        DiscoveryRequest.create({
          typeUrl: ResourceType[kind].typeUrl,
          versionInfo: store.version(kind),
          node: index === 0 ? { id: `${node.workload}.${node.namespace}`, ...node, onDemand: this.options.onDemand !== undefined } : null,
          resourceNames: this.options.onDemand?.names(kind) ?? [],
        }),
      );
    }
  }

  /**
   * Tells the control plane the names `kind` now needs. The request repeats the last answer
   * (nonce, and the rejection if it was one) so the server does not take it for a new ACK.
   */
  private resubscribe(kind: ResourceKind): void {
    const stream = this.stream;
    if (!stream) return; // the next connection subscribes with the current names
    const typeUrl = ResourceType[kind].typeUrl;
    const last = this.lastAnswers.get(typeUrl);
    const names = this.options.onDemand?.names(kind) ?? [];
    this.options.log.debug({ type: kind, names: names.length }, 'subscription changed');
    stream.write(
      DiscoveryRequest.create({
        typeUrl,
        versionInfo: this.options.store.version(kind),
        responseNonce: last?.nonce ?? '',
        errorDetail: last?.errorDetail ?? null,
        resourceNames: names,
      }),
    );
  }

  /** Writes the ACK or NACK of a response, with the names this proxy subscribes to now. */
  private answer(stream: Stream, typeUrl: string, kind: ResourceKind | undefined, versionInfo: string, nonce: string, errorDetail?: { code: number; message: string }): void {
    this.lastAnswers.set(typeUrl, { nonce, errorDetail });
    stream.write(DiscoveryRequest.create({ typeUrl, versionInfo, responseNonce: nonce, errorDetail: errorDetail ?? null, resourceNames: (kind && this.options.onDemand?.names(kind)) || [] }));
  }

  private handle(stream: Stream, response: DiscoveryResponse): void {
    const { store, log } = this.options;
    const kind = resourceKindOf(response.typeUrl);
    if (!kind) {
      log.warn({ typeUrl: response.typeUrl }, 'control plane sent an unknown resource type');
      this.answer(stream, response.typeUrl, undefined, '', response.nonce, { code: GrpcStatus.UNIMPLEMENTED, message: `unknown type ${response.typeUrl}` });
      return;
    }
    try {
      store.apply(kind, response.typeUrl, response.versionInfo, response.resources);
      log.debug({ type: kind, version: response.versionInfo, resources: response.resources.length, answers: response.resourceNames.length }, 'configuration applied');
      // Before the ACK: new routes may need clusters, which this ACK then already names.
      this.options.onDemand?.answer(kind, response.resourceNames);
      this.answer(stream, response.typeUrl, kind, response.versionInfo, response.nonce);
    } catch (error) {
      if (!(error instanceof InvalidResourceError)) throw error;
      this.state.rejected++;
      this.state.lastRejection = { kind, version: response.versionInfo, message: error.message };
      log.warn({ type: kind, version: response.versionInfo, keeps: store.version(kind), error: error.message }, 'configuration rejected');
      this.answer(stream, response.typeUrl, kind, store.version(kind), response.nonce, { code: GrpcStatus.INVALID_ARGUMENT, message: error.message });
    }
  }

  private retry(stream: Stream): void {
    if (this.stream !== stream || this.stopped) return;
    this.stream = undefined;
    this.state.connected = false;
    this.state.reconnects++;
    const delay = this.backoff.nextDelayMs();
    this.options.log.info({ delayMs: delay }, 'reconnecting to control plane');
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
