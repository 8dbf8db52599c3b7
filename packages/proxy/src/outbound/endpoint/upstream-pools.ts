// Keep-alive connection pools (undici), one per upstream address, shared by every cluster
// that reaches that address. Pools of addresses that left the configuration are closed
// gracefully: requests in flight on them finish first.
import { Pool } from 'undici';
import { formatHostPort } from '@weft/runtime';

export interface PoolSettings {
  /** Idle keep-alive connections are closed after this long. */
  readonly keepAliveTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

export const DEFAULT_POOL_SETTINGS: PoolSettings = { keepAliveTimeoutMs: 60_000, connectTimeoutMs: 5_000 };

export class UpstreamPools {
  private readonly settings: PoolSettings;
  private readonly pools = new Map<string, Pool>();

  constructor(settings: PoolSettings = DEFAULT_POOL_SETTINGS) {
    this.settings = settings;
  }

  get(host: string, port: number): Pool {
    const key = formatHostPort({ host, port });
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(`http://${key}`, {
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

  /** Closes pools whose address is not in `keep` ("host:port" keys). */
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
