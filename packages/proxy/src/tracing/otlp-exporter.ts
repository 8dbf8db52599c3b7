// Sends finished spans to an OTLP/HTTP collector in batches, off the request path: a span
// joins a bounded queue (a full queue drops it and counts the drop); a batch is posted when
// one fills or every flush interval, one export at a time, each bounded by a timeout. A
// failed export is counted, logged at most once per interval, and its spans are let go —
// never retried, so a collector that is down or hangs costs memory bounded by the queue and
// never delays a request.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { finished } from 'node:stream';
import type { Logger } from '@weft/runtime';
import { exportTraceServiceRequest, type TraceResource } from './otlp-json.ts';
import type { FinishedSpan } from './span.ts';

export interface BatchSettings {
  /** Spans waiting to be sent; beyond it new spans are dropped. */
  readonly maxQueueSize: number;
  /** Spans per export request; a full batch is sent at once. */
  readonly maxBatchSize: number;
  /** How often what is queued is sent, batch full or not. */
  readonly flushIntervalMs: number;
  /** Connect, send and answer within this, or the export failed. */
  readonly exportTimeoutMs: number;
}

export const DEFAULT_BATCH_SETTINGS: BatchSettings = { maxQueueSize: 2048, maxBatchSize: 512, flushIntervalMs: 1000, exportTimeoutMs: 5000 };

/** What happened to spans, for the metrics port. */
export interface TracingCounters {
  readonly spansExported: number;
  /** Dropped because the queue was full. */
  readonly spansDropped: number;
  /** Export requests that failed: refused, timed out, or answered other than 2xx. */
  readonly exportFailures: number;
}

export interface OtlpExporterOptions {
  /** The collector's traces URL, e.g. http://collector:4318/v1/traces. */
  readonly endpoint: URL;
  readonly resource: TraceResource;
  readonly settings?: BatchSettings;
  readonly log: Logger;
  /** At most one warning per this interval, however many exports fail. */
  readonly warningIntervalMs?: number;
}

const DEFAULT_WARNING_INTERVAL_MS = 10_000;

export class OtlpHttpExporter implements TracingCounters {
  spansExported = 0;
  spansDropped = 0;
  exportFailures = 0;
  private readonly options: OtlpExporterOptions;
  private readonly settings: BatchSettings;
  /** One keep-alive connection to the collector: exports go one at a time. */
  private readonly agent: HttpAgent;
  private readonly timer: NodeJS.Timeout;
  private queue: FinishedSpan[] = [];
  /** The export under way; resolves to whether it succeeded. */
  private inFlight: Promise<boolean> | undefined;
  private flushScheduled = false;
  private lastWarningAt = Number.NEGATIVE_INFINITY;

  constructor(options: OtlpExporterOptions) {
    this.options = options;
    this.settings = options.settings ?? DEFAULT_BATCH_SETTINGS;
    const agentOptions = { keepAlive: true, maxSockets: 1 };
    this.agent = options.endpoint.protocol === 'https:' ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    // Never what keeps the process alive.
    this.timer = setInterval(() => this.flush(), this.settings.flushIntervalMs).unref();
  }

  /** Queues a span; returns at once. */
  add(span: FinishedSpan): void {
    if (this.queue.length >= this.settings.maxQueueSize) {
      this.spansDropped++;
      this.warn('span queue full: dropping spans');
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.settings.maxBatchSize && !this.flushScheduled) {
      // Encoding and sending happen after the current request's work, not inside it.
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /**
   * Sends the queued spans that are left, then closes. Stops at the first failure, the export
   * under way included, so a collector that hangs delays shutdown by one timeout at most.
   */
  async close(): Promise<void> {
    clearInterval(this.timer);
    let ok = (await this.inFlight) ?? true;
    while (ok && this.queue.length > 0) {
      this.flush();
      ok = (await this.inFlight) ?? true;
    }
    // Nothing is in flight any more: only idle keep-alive connections are left.
    this.agent.destroy();
  }

  /**
   * Starts one export of up to a batch, unless one is under way. After a success a full batch
   * waiting goes next; after a failure the rest waits for the timer, so a collector that is
   * down sees at most one attempt per interval or per batch of new spans.
   */
  private flush(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.settings.maxBatchSize);
    const inFlight = this.post(batch).then(
      () => {
        this.spansExported += batch.length;
        return true;
      },
      (error: unknown) => {
        this.exportFailures++;
        this.warn('span export failed', error);
        return false;
      },
    );
    this.inFlight = inFlight;
    void inFlight.then((ok) => {
      this.inFlight = undefined;
      if (ok && this.queue.length >= this.settings.maxBatchSize) this.flush();
    });
  }

  /** Posts one batch; the timeout bounds connect, send and the whole answer. */
  private post(batch: readonly FinishedSpan[]): Promise<void> {
    const body = exportTraceServiceRequest(this.options.resource, batch);
    const { endpoint } = this.options;
    const send = endpoint.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const onResponse = (response: IncomingMessage): void => {
        const status = response.statusCode ?? 0;
        // Read and let go; the answer's partialSuccess is not acted on.
        response.resume();
        finished(response, (error) => {
          if (error) reject(error);
          else if (status < 200 || status > 299) reject(new Error(`collector answered HTTP ${status}`));
          else resolve();
        });
      };
      const outgoing = send(endpoint, { method: 'POST', agent: this.agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, signal: AbortSignal.timeout(this.settings.exportTimeoutMs) }, onResponse);
      outgoing.once('error', reject);
      outgoing.end(body);
    });
  }

  private warn(message: string, error?: unknown): void {
    const now = performance.now();
    if (now - this.lastWarningAt < (this.options.warningIntervalMs ?? DEFAULT_WARNING_INTERVAL_MS)) return;
    this.lastWarningAt = now;
    const { spansExported, spansDropped, exportFailures } = this;
    this.options.log.warn({ endpoint: this.options.endpoint.origin, err: error, spansExported, spansDropped, exportFailures }, message);
  }
}
