// Keep-alive connection pools (undici), one per upstream address, security (plaintext, or
// mTLS expecting given identities) and connection settings, shared by every cluster that
// reaches it that way. Pools that left the configuration are closed gracefully: requests in
// flight on them finish first.
import { Pool } from 'undici';
import { formatHostPort } from '@weft/runtime';
import type { WorkloadIdentity } from '../../identity/workload-identity.ts';
import { mtlsConnector, type MtlsTarget } from './mtls-connector.ts';

/** How connections of a pool behave (a cluster's connectionPool settings). */
export interface PoolSettings {
  readonly connectTimeoutMs: number;
  /** Idle keep-alive connections are closed after this long. */
  readonly idleTimeoutMs: number;
  /** A connection is closed after this many requests; undefined = no limit. */
  readonly maxRequestsPerConnection: number | undefined;
}

export const DEFAULT_POOL_SETTINGS: PoolSettings = { connectTimeoutMs: 5_000, idleTimeoutMs: 60_000, maxRequestsPerConnection: undefined };

export class UpstreamPools {
  private readonly identity: WorkloadIdentity | undefined;
  private readonly pools = new Map<string, Pool>();

  constructor(options: { identity?: WorkloadIdentity } = {}) {
    this.identity = options.identity;
  }

  /** Names the pool `get` returns: address, identities for mTLS, connection settings. */
  key(host: string, port: number, mtls: MtlsTarget | undefined, settings: PoolSettings = DEFAULT_POOL_SETTINGS): string {
    const address = formatHostPort({ host, port });
    const security = this.identity && mtls ? ` mtls ${mtls.identities.join(',')}` : '';
    return `${address}${security} ${settings.connectTimeoutMs}/${settings.idleTimeoutMs}/${settings.maxRequestsPerConnection ?? 0}`;
  }

  /** A pool to host:port; over mTLS when `mtls` is given and this proxy has an identity. */
  get(host: string, port: number, mtls?: MtlsTarget, settings: PoolSettings = DEFAULT_POOL_SETTINGS): Pool {
    const key = this.key(host, port, mtls, settings);
    let pool = this.pools.get(key);
    if (!pool) {
      const address = formatHostPort({ host, port });
      const identity = this.identity;
      const secure = identity && mtls ? { connect: mtlsConnector(identity, mtls, settings.connectTimeoutMs) } : undefined;
      pool = new Pool(secure ? `https://${address}` : `http://${address}`, {
        ...secure,
        pipelining: 1,
        keepAliveTimeout: settings.idleTimeoutMs,
        keepAliveMaxTimeout: settings.idleTimeoutMs,
        connectTimeout: settings.connectTimeoutMs,
        ...(settings.maxRequestsPerConnection ? { maxRequestsPerClient: settings.maxRequestsPerConnection } : {}),
        // A route's timeout bounds a request; the pool itself waits as long as that allows.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Closes pools whose key is not in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const [key, pool] of this.pools) {
      if (keep.has(key)) continue;
      this.pools.delete(key);
      void pool.close();
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }
}
