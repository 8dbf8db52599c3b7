// Connections to upstreams, shared by every cluster that reaches an address the same way: an
// HTTP/1.1 keep-alive pool or one multiplexed HTTP/2 connection, plaintext or mTLS
// (expecting given identities), with the cluster's connection settings. Transports that left
// the configuration are closed gracefully: requests in flight on them finish first.
import { connect as netConnect, type Socket } from 'node:net';
import { formatHostPort } from '@weft/runtime';
import type { HeaderMap, ProxyRequest, ProxyResponse } from '../../http/handler.ts';
import type { WorkloadIdentity } from '../../identity/workload-identity.ts';
import { Http1Transport } from './http1-transport.ts';
import { Http2Transport } from './http2-transport.ts';
import { mtlsSocket, type MtlsTarget } from './mtls-connector.ts';
import { whenConnected } from './socket-connect.ts';

/** How connections behave (a cluster's connectionPool settings). */
export interface PoolSettings {
  readonly connectTimeoutMs: number;
  /** Idle connections are closed after this long. */
  readonly idleTimeoutMs: number;
  /** An HTTP/1.1 connection is closed after this many requests; undefined = no limit. */
  readonly maxRequestsPerConnection: number | undefined;
}

export const DEFAULT_POOL_SETTINGS: PoolSettings = { connectTimeoutMs: 5_000, idleTimeoutMs: 60_000, maxRequestsPerConnection: undefined };

export type UpstreamProtocol = 'http1' | 'h2';

export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly protocol: UpstreamProtocol;
  /** mTLS, when the upstream is a sidecar and this proxy has an identity. */
  readonly mtls?: MtlsTarget;
  readonly settings?: PoolSettings;
}

export interface Transport {
  send(request: ProxyRequest, extraHeaders?: HeaderMap): Promise<ProxyResponse>;
  /** Gracefully: requests in flight finish first. */
  close(): Promise<void>;
  /** At once, cutting requests in flight. */
  destroy(): Promise<void>;
}

export class UpstreamPools {
  private readonly identity: WorkloadIdentity | undefined;
  private readonly transports = new Map<string, Transport>();

  constructor(options: { identity?: WorkloadIdentity } = {}) {
    this.identity = options.identity;
  }

  /** Names the transport `get` returns: protocol, address, identities for mTLS, settings. */
  key(target: UpstreamTarget): string {
    const settings = target.settings ?? DEFAULT_POOL_SETTINGS;
    const security = this.identity && target.mtls ? ` mtls ${target.mtls.identities.join(',')}` : '';
    return `${target.protocol} ${formatHostPort(target)}${security} ${settings.connectTimeoutMs}/${settings.idleTimeoutMs}/${settings.maxRequestsPerConnection ?? 0}`;
  }

  get(target: UpstreamTarget): Transport {
    const key = this.key(target);
    let transport = this.transports.get(key);
    if (!transport) {
      transport = this.create(target);
      this.transports.set(key, transport);
    }
    return transport;
  }

  private create(target: UpstreamTarget): Transport {
    const settings = target.settings ?? DEFAULT_POOL_SETTINGS;
    const address = formatHostPort(target);
    const identity = this.identity;
    const mtls = identity && target.mtls;
    if (target.protocol === 'h2') {
      return new Http2Transport({
        address,
        host: target.host,
        port: target.port,
        connectTimeoutMs: settings.connectTimeoutMs,
        idleTimeoutMs: settings.idleTimeoutMs,
        ...(identity && mtls ? { connectTls: () => mtlsSocket(identity, mtls, { host: target.host, port: target.port, alpn: 'h2' }) } : {}),
      });
    }
    return new Http1Transport({
      address,
      host: target.host,
      port: target.port,
      settings,
      ...(identity && mtls ? { connectTls: () => mtlsSocket(identity, mtls, { host: target.host, port: target.port, alpn: 'http/1.1' }) } : {}),
    });
  }

  /**
   * A raw connection for a tunnel (Upgrade or CONNECT): mTLS with ALPN `alpn` to a sidecar when
   * this proxy has an identity, else plain TCP. Resolves once it is established.
   */
  openSocket(target: Omit<UpstreamTarget, 'protocol'>, alpn: string): Promise<Socket> {
    const timeoutMs = (target.settings ?? DEFAULT_POOL_SETTINGS).connectTimeoutMs;
    const identity = this.identity;
    const socket: Socket = identity && target.mtls ? mtlsSocket(identity, target.mtls, { host: target.host, port: target.port, alpn }) : netConnect({ host: target.host, port: target.port, noDelay: true });
    return whenConnected(socket, { secure: identity !== undefined && target.mtls !== undefined, timeoutMs, address: formatHostPort(target) });
  }

  /** Closes transports whose key is not in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const [key, transport] of this.transports) {
      if (keep.has(key)) continue;
      this.transports.delete(key);
      void transport.close();
    }
  }

  /** Closes every transport at once (the process is exiting: what a drain left is cut). */
  async destroy(): Promise<void> {
    const transports = [...this.transports.values()];
    this.transports.clear();
    await Promise.all(transports.map((transport) => transport.destroy()));
  }
}
