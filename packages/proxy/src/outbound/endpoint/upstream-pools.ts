// Keep-alive connection pools (undici), one per upstream address and security (plaintext, or
// mTLS expecting given identities), shared by every cluster that reaches it. Pools that left
// the configuration are closed gracefully: requests in flight on them finish first.
import { Pool } from 'undici';
import { formatHostPort } from '@weft/runtime';
import type { WorkloadIdentity } from '../../identity/workload-identity.ts';
import { mtlsConnector, type MtlsTarget } from './mtls-connector.ts';

export interface PoolSettings {
  /** Idle keep-alive connections are closed after this long. */
  readonly keepAliveTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

export const DEFAULT_POOL_SETTINGS: PoolSettings = { keepAliveTimeoutMs: 60_000, connectTimeoutMs: 5_000 };

export class UpstreamPools {
  private readonly settings: PoolSettings;
  private readonly identity: WorkloadIdentity | undefined;
  private readonly pools = new Map<string, Pool>();

  constructor(options: { settings?: PoolSettings; identity?: WorkloadIdentity } = {}) {
    this.settings = options.settings ?? DEFAULT_POOL_SETTINGS;
    this.identity = options.identity;
  }

  /** Names the pool `get` returns: the address, and for mTLS the identities the peer must have. */
  key(host: string, port: number, mtls?: MtlsTarget): string {
    const address = formatHostPort({ host, port });
    return this.identity && mtls ? `${address} mtls ${mtls.identities.join(',')}` : address;
  }

  /** A pool to host:port; over mTLS when `mtls` is given and this proxy has an identity. */
  get(host: string, port: number, mtls?: MtlsTarget): Pool {
    const key = this.key(host, port, mtls);
    let pool = this.pools.get(key);
    if (!pool) {
      const address = formatHostPort({ host, port });
      const identity = this.identity;
      const secure = identity && mtls ? { connect: mtlsConnector(identity, mtls, this.settings.connectTimeoutMs) } : undefined;
      pool = new Pool(secure ? `https://${address}` : `http://${address}`, {
        ...secure,
        pipelining: 1,
        keepAliveTimeout: this.settings.keepAliveTimeoutMs,
        keepAliveMaxTimeout: this.settings.keepAliveTimeoutMs,
        connectTimeout: this.settings.connectTimeoutMs,
        // A route's timeout bounds a request; the pool itself waits as long as that allows.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Closes pools whose key (see poolKey) is not in `keep`. */
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
