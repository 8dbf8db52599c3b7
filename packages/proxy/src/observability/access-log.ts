// Access logs: one JSON line per HTTP request on stdout, from a pino logger of its own (field
// `log: "access"`, so a collector can tell them from the proxy's own logs, and not subject to
// --log-level). A line holds only the listed fields: never bodies, query strings, cookies,
// Authorization or any other header value, since those carry credentials. Writing is
// asynchronous with a bounded buffer: a slow reader of stdout costs dropped lines, not
// blocked requests.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { Completion } from '../http/exchange.ts';
import { parsePercent } from '../tracing/sampler.ts';

export type AccessLogMode = { readonly kind: 'off' } | { readonly kind: 'all' } | { readonly kind: 'sampled'; readonly percent: number };

export const ACCESS_LOG_OFF: AccessLogMode = Object.freeze({ kind: 'off' });

/** "off", "all" or "sampled:PERCENT". */
export function parseAccessLogMode(text: string, what: string): AccessLogMode {
  if (text === 'off' || text === 'all') return { kind: text };
  if (text.startsWith('sampled:')) return { kind: 'sampled', percent: parsePercent(text.slice('sampled:'.length), `${what} sampled:PERCENT`) };
  throw new Error(`${what} must be off, all or sampled:PERCENT, got "${text}"`);
}

/** Lines waiting for stdout beyond this are dropped. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** FNV-1a: the request id decides sampling, so every sidecar on the path logs the same requests. */
function bucketOf(requestId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) hash = Math.imul(hash ^ requestId.charCodeAt(i), 0x01000193);
  return ((hash >>> 0) % 10_000) / 100;
}

export class AccessLog {
  /** Lines lost because stdout did not keep up. */
  linesDropped = 0;
  private readonly mode: AccessLogMode;
  private readonly logger: Logger | undefined;
  private readonly flushSync: (() => void) | undefined;

  /** `destination`: where lines go; stdout (asynchronous, bounded) by default. */
  constructor(mode: AccessLogMode, destination?: DestinationStream) {
    this.mode = mode;
    if (mode.kind === 'off') return;
    let stream = destination;
    if (!stream) {
      const stdout = pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFERED_BYTES });
      stdout.on('drop', () => this.linesDropped++);
      this.flushSync = () => stdout.flushSync();
      stream = stdout;
    }
    this.logger = pino({ base: { log: 'access' }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
  }

  /** Writes the line of a completed request, if the mode says so (once per request, from the exchange). */
  record({ context, status, flag, durationSeconds }: Completion): void {
    const telemetry = context.telemetry;
    if (!this.logger || !telemetry) return;
    if (this.mode.kind === 'sampled' && bucketOf(telemetry.requestId) >= this.mode.percent) return;
    this.logger.info({
      direction: context.direction,
      method: telemetry.method,
      authority: telemetry.authority,
      path: telemetry.path,
      status,
      response_flags: flag || '-',
      duration_ms: Math.round(durationSeconds * 1e6) / 1000,
      upstream_address: context.upstreamAddress,
      upstream_cluster: context.clusterName,
      route: context.routeName,
      trace_id: telemetry.trace.traceId,
      request_id: telemetry.requestId,
      // Inbound the caller's verified identity, outbound the upstream's.
      peer_spiffe_id: context.direction === 'inbound' ? telemetry.callerSpiffeId : context.upstreamPeer,
      bytes_received: telemetry.requestBytes,
      bytes_sent: telemetry.responseBytes,
    });
  }

  /** Writes out what is buffered (at shutdown). */
  flush(): void {
    try {
      this.flushSync?.();
    } catch {
      // Not open yet, or already closed: nothing to write.
    }
  }
}
