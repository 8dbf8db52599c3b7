// The capture rules, as iptables-restore text for the nat table, in the shape istio-init uses:
//
//   PREROUTING -> WEFT_INBOUND: excluded ports RETURN, every other TCP port REDIRECT to the
//                 proxy's inbound port (15006)
//   OUTPUT     -> WEFT_OUTPUT:  the proxy calling its own pod over lo (an app calling its own
//                 service) -> inbound; the proxy's own traffic (its UID/GID) RETURN, loopback
//                 RETURN, excluded ports and CIDRs RETURN, then the included CIDRs (all by
//                 default) -> WEFT_REDIRECT: REDIRECT to the proxy's outbound port (15001)
//
// Everything Weft adds lives in chains named WEFT_*, so removing it is exact.

export const CHAIN_PREFIX = 'WEFT_';

export interface CaptureOptions {
  /** The proxy runs as this UID (and GID); its own connections are never captured. */
  readonly proxyUid: number;
  readonly inboundCapturePort: number;
  readonly outboundCapturePort: number;
  /** Inbound ports that reach their listener directly (the proxy's health and metrics ports). */
  readonly excludeInboundPorts: readonly number[];
  readonly excludeOutboundPorts: readonly number[];
  readonly excludeOutboundCidrs: readonly string[];
  /** Outbound destinations to capture: undefined for all; an empty list captures none. */
  readonly includeOutboundCidrs: readonly string[] | undefined;
}

/** The rules as the lines of a `*nat` section for iptables-restore (without COMMIT). */
export function captureRules(options: CaptureOptions): string[] {
  const lines = [':WEFT_INBOUND - [0:0]', ':WEFT_OUTPUT - [0:0]', ':WEFT_REDIRECT - [0:0]', ':WEFT_IN_REDIRECT - [0:0]'];
  lines.push(`-A WEFT_REDIRECT -p tcp -j REDIRECT --to-ports ${options.outboundCapturePort}`);
  lines.push(`-A WEFT_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${options.inboundCapturePort}`);

  lines.push('-A PREROUTING -p tcp -j WEFT_INBOUND');
  for (const port of options.excludeInboundPorts) lines.push(`-A WEFT_INBOUND -p tcp --dport ${port} -j RETURN`);
  lines.push('-A WEFT_INBOUND -p tcp -j WEFT_IN_REDIRECT');

  lines.push('-A OUTPUT -p tcp -j WEFT_OUTPUT');
  // The proxy sending to its own pod's address (over lo) is a request for this pod's app: it
  // must enter through the inbound side like any other, not reach the app as mTLS bytes.
  lines.push(`-A WEFT_OUTPUT -o lo ! -d 127.0.0.1/32 -m owner --uid-owner ${options.proxyUid} -j WEFT_IN_REDIRECT`);
  lines.push(`-A WEFT_OUTPUT -m owner --uid-owner ${options.proxyUid} -j RETURN`);
  lines.push(`-A WEFT_OUTPUT -m owner --gid-owner ${options.proxyUid} -j RETURN`);
  lines.push('-A WEFT_OUTPUT -o lo -j RETURN');
  lines.push('-A WEFT_OUTPUT -d 127.0.0.0/8 -j RETURN');
  for (const port of options.excludeOutboundPorts) lines.push(`-A WEFT_OUTPUT -p tcp --dport ${port} -j RETURN`);
  for (const cidr of options.excludeOutboundCidrs) lines.push(`-A WEFT_OUTPUT -d ${cidr} -j RETURN`);
  if (options.includeOutboundCidrs === undefined) lines.push('-A WEFT_OUTPUT -j WEFT_REDIRECT');
  else for (const cidr of options.includeOutboundCidrs) lines.push(`-A WEFT_OUTPUT -d ${cidr} -j WEFT_REDIRECT`);
  return lines;
}

/** The lines of an `iptables-save -t nat` dump that are Weft's: its chains, rules in them, jumps to them. */
export function isWeftLine(line: string): boolean {
  return line.startsWith(`:${CHAIN_PREFIX}`) || / (-A|-j) WEFT_/.test(` ${line}`);
}

/**
 * The nat table `dump` (iptables-save -t nat) without Weft's lines, and with `rules` added when
 * given: restoring the result replaces the table atomically, keeps everything else in it, and
 * yields the same table however many times it is applied.
 */
export function rewriteNatTable(dump: string, rules: readonly string[] | undefined): string {
  const out: string[] = [];
  let inNat = false;
  let sawNat = false;
  for (const line of dump.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    if (line === '*nat') {
      inNat = true;
      sawNat = true;
      out.push(line);
      continue;
    }
    if (inNat && line === 'COMMIT') {
      if (rules) out.push(...rules);
      out.push('COMMIT');
      inNat = false;
      continue;
    }
    if (inNat && isWeftLine(line)) continue;
    // Counters from the dump would be restored as-is; drop them so they start from zero.
    out.push(line.replace(/ \[\d+:\d+\]$/, ' [0:0]'));
  }
  if (!sawNat) out.push('*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ...(rules ?? []), 'COMMIT');
  return `${out.join('\n')}\n`;
}
