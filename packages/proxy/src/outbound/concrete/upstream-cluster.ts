// One cluster at run time: its endpoints with their live state, the picker, the circuit
// breaker, outlier detection and retry accounting. `handle` admits a request, picks a usable
// endpoint and forwards to it, and tells outlier detection how it went.
import type { ClusterConfig, HashKey } from '../../config/resources/cluster.ts';
import { ProxyError, ProxyErrorKind } from '../../errors.ts';
import type { ProxyRequest, ProxyResponse, RequestContext } from '../../http/handler.ts';
import type { Socket } from 'node:net';
import { formatHostPort } from '@weft/runtime';
import { neverProcessed, upstreamError } from '../endpoint/upstream-errors.ts';
import { replayableBody, replayWithinGrace } from '../logical/replayable-body.ts';
import type { EndpointConfig } from '../../config/resources/endpoints.ts';
import type { MtlsTarget } from '../endpoint/mtls-connector.ts';
import type { UpstreamPools, UpstreamTarget } from '../endpoint/upstream-pools.ts';
import { peerMetadataHeaders } from '../../metrics/peer-metadata.ts';
import { createPicker, type EndpointState, type Picker } from './balancers.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { OutlierDetector } from './outlier-detector.ts';

/**
 * Sends of one request that may follow a send the upstream provably never received (see
 * neverProcessed), each to an endpoint not tried yet when there is one. Independent of any
 * retry policy: a peer draining (GOAWAY, closed listener) must not fail requests.
 */
const UNPROCESSED_RESENDS = 2;

/** Header naming the application port when connecting to a peer's sidecar directly. */
export const TARGET_PORT_HEADER = 'weft-target-port';

function cookie(header: string | string[] | undefined, name: string): string | undefined {
  for (const part of (Array.isArray(header) ? header.join(';') : (header ?? '')).split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

function hashKeyOf(key: HashKey, request: ProxyRequest): string | undefined {
  if (key.kind === 'source-ip') return request.remoteAddress;
  if (key.kind === 'cookie') return cookie(request.headers.cookie, key.name);
  const value = request.headers[key.name];
  return Array.isArray(value) ? value.join(',') : value;
}

export class UpstreamCluster {
  readonly config: ClusterConfig;
  readonly endpoints: readonly EndpointState[];
  readonly breaker: CircuitBreaker;
  readonly outlier: OutlierDetector | undefined;
  private readonly picker: Picker;
  private readonly pools: UpstreamPools;
  private readonly localWorkload: string;
  private readonly mtls: MtlsTarget;
  private activeRetries = 0;
  /** Retries refused by the budget or maxRetries. */
  retriesRefused = 0;
  retriesStarted = 0;

  constructor(config: ClusterConfig, endpoints: readonly EndpointState[], shared: { pools: UpstreamPools; localWorkload: string }, previous: UpstreamCluster | undefined) {
    this.config = config;
    this.endpoints = endpoints;
    this.pools = shared.pools;
    this.localWorkload = shared.localWorkload;
    this.mtls = { identities: config.peerIdentities, servername: config.service };
    this.picker = createPicker(config.lbPolicy, endpoints.filter((endpoint) => endpoint.config.ready), { hash: config.consistentHash });
    // Limits that did not change keep their state (requests in flight, waiters).
    this.breaker = previous && sameLimits(previous.config, config) ? previous.breaker : new CircuitBreaker(config.limits);
    this.outlier = config.outlier && new OutlierDetector(config.outlier);
    this.outlier?.track(endpoints);
    previous?.outlier?.stop();
  }

  /**
   * How an endpoint is reached: a sidecar over multiplexed HTTP/2 (mTLS when this proxy has an
   * identity); an application without a sidecar in the cluster's own protocol.
   */
  private target(config: EndpointConfig): UpstreamTarget {
    const sidecar = config.mtls || config.viaSidecar;
    const protocol = sidecar || this.config.protocol === 'HTTP2' || this.config.protocol === 'GRPC' ? 'h2' : 'http1';
    return { host: config.connectHost, port: config.connectPort, protocol, mtls: config.mtls ? this.mtls : undefined, settings: this.config.limits };
  }

  /** The transport key of each endpoint, so unused transports can be closed. */
  poolKeys(): string[] {
    return this.endpoints.map(({ config }) => this.pools.key(this.target(config)));
  }

  stop(): void {
    this.outlier?.stop();
  }

  /**
   * Starts a retry if the budget allows: retries in flight at most budgetPercent of requests in
   * flight (at least minRetryConcurrency), and at most maxRetries. Returns a release function.
   */
  startRetry(): (() => void) | undefined {
    const { budgetPercent, minRetryConcurrency } = this.config.retryBudget;
    const { active, pending } = this.breaker.load;
    const allowed = Math.max(minRetryConcurrency, Math.floor(((active + pending) * budgetPercent) / 100));
    const cap = this.config.limits.maxRetries;
    if (this.activeRetries >= allowed || (cap !== undefined && this.activeRetries >= cap)) {
      this.retriesRefused++;
      return undefined;
    }
    this.activeRetries++;
    this.retriesStarted++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.activeRetries--;
    };
  }

  /**
   * A raw connection to one endpoint, for a tunnel: an upgraded HTTP/1.1 connection (ALPN
   * http/1.1) or opaque TCP (ALPN weft-tcp, the peer sidecar then reads the port from a first
   * line). Counts as a request in flight until `done`.
   */
  async openTunnel(request: ProxyRequest, context: RequestContext, alpn: 'http/1.1' | 'weft-tcp'): Promise<{ socket: Socket; endpoint: EndpointConfig; done: () => void }> {
    const endpoint = this.pick(request, context);
    const { config } = endpoint;
    context.upstreamAddress = formatHostPort({ host: config.connectHost, port: config.connectPort });
    context.destinationWorkload = config.workload;
    context.destinationSubset = this.config.subset;
    endpoint.active++;
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      endpoint.active--;
    };
    try {
      const socket = await this.pools.openSocket({ host: config.connectHost, port: config.connectPort, mtls: config.mtls ? this.mtls : undefined, settings: this.config.limits }, alpn);
      return { socket, endpoint: config, done };
    } catch (error) {
      done();
      this.outlier?.record(endpoint, { status: undefined });
      throw upstreamError(error, request.signal, context.upstreamAddress);
    }
  }

  private pick(request: ProxyRequest, context: RequestContext): EndpointState {
    const ready = this.endpoints.filter((endpoint) => endpoint.config.ready);
    const candidates = this.outlier ? this.outlier.usable(ready) : ready;
    const hashKey = this.config.consistentHash && hashKeyOf(this.config.consistentHash.key, request);
    const endpoint = this.picker(candidates, { hashKey, tried: context.tried as Set<EndpointState> | undefined });
    if (!endpoint) throw new ProxyError(ProxyErrorKind.NO_HEALTHY_UPSTREAM, `no healthy endpoint in ${this.config.name}`);
    context.tried ??= new Set();
    context.tried.add(endpoint);
    return endpoint;
  }

  /** Forwards to one endpoint; a send the upstream never received goes again (UNPROCESSED_RESENDS). */
  async handle(request: ProxyRequest, context: RequestContext): Promise<ProxyResponse> {
    const body = replayableBody(request.body, request.headers['content-length']);
    let attemptBody = body.first();
    for (let resends = 0; ; resends++) {
      try {
        return await this.send({ ...request, body: attemptBody }, context);
      } catch (error) {
        const replay = resends < UNPROCESSED_RESENDS && neverProcessed(error) ? await replayWithinGrace(body, request.signal) : undefined;
        if (replay === undefined) throw error;
        attemptBody = replay;
      }
    }
  }

  private async send(request: ProxyRequest, context: RequestContext): Promise<ProxyResponse> {
    const release = await this.breaker.admit(this.config.name, request.signal);
    let endpoint: EndpointState;
    try {
      endpoint = this.pick(request, context);
    } catch (error) {
      release();
      throw error;
    }
    const { config } = endpoint;
    const address = formatHostPort({ host: config.connectHost, port: config.connectPort });
    context.upstreamAddress = address;
    context.upstreamPeer = undefined;
    context.destinationWorkload = config.workload;
    context.destinationSubset = this.config.subset;
    endpoint.active++;
    const settle = (): void => {
      endpoint.active--;
      release();
    };
    try {
      const toSidecar = config.viaSidecar || config.mtls;
      const metadata = toSidecar ? peerMetadataHeaders(this.localWorkload, context.destinationService) : undefined;
      const extra = config.viaSidecar ? { [TARGET_PORT_HEADER]: String(config.port), ...metadata } : metadata;
      const response = await this.pools.get(this.target(config)).send(request, extra);
      context.upstreamPeer = response.upstreamPeer;
      this.outlier?.record(endpoint, { status: response.status });
      if (response.body) response.body.once('close', settle);
      else settle();
      return response;
    } catch (error) {
      settle();
      // Connection failures and resets count against the endpoint; a caller leaving does not.
      if (error instanceof ProxyError && error.kind !== ProxyErrorKind.DOWNSTREAM_GONE && error.kind !== ProxyErrorKind.UPSTREAM_TIMEOUT) this.outlier?.record(endpoint, { status: undefined });
      throw error;
    }
  }
}

function sameLimits(a: ClusterConfig, b: ClusterConfig): boolean {
  return a.limits === b.limits || JSON.stringify(a.limits) === JSON.stringify(b.limits);
}
