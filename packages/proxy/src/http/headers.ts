// Header hygiene at the proxy's edges.
import type { HeaderMap } from './handler.ts';

/** RFC 9110 §7.6.1 connection-specific headers: never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/**
 * Copies `headers` without hop-by-hop headers, nor those the peer listed in `Connection`.
 * `host` is dropped too: it travels as the request's authority. `te: trailers` is the one TE
 * value kept: gRPC needs it end to end, and HTTP/2 allows exactly it.
 */
export function forwardableHeaders(headers: HeaderMap): HeaderMap {
  const connection = headers.connection;
  const named = typeof connection === 'string' ? connection.toLowerCase().split(',').map((token) => token.trim()) : [];
  const out: HeaderMap = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named.includes(name)) continue;
    out[name] = headers[name];
  }
  if (headers.te === 'trailers') out.te = 'trailers';
  return out;
}

export interface Authority {
  readonly host: string;
  readonly port: number | undefined;
}

/**
 * "Orders.Default:8080" -> { host: "orders.default", port: 8080 }; "[::1]:80" handled. The host
 * is an IP literal or an RFC 3986 reg-name: no spaces, no userinfo ("user@host"), nothing a
 * parser further along could split differently.
 */
export function parseAuthority(authority: string): Authority | undefined {
  const value = authority.trim().toLowerCase();
  if (value === '') return undefined;
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9._~!$&'()*+,;=%-]+)(?::(\d{1,5}))?$/.exec(value);
  if (!match) return undefined;
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { host: (match[1] as string).replace(/\.$/, ''), port };
}
