// The sidecar's tracer: continues the caller's trace, or starts one, for every HTTP request
// (propagation happens whether or not spans are exported), and hands each finished span that
// is sampled to the exporter, when there is one.
import type { Completion } from '../http/exchange.ts';
import type { HeaderMap } from '../http/handler.ts';
import type { TracingCounters } from './otlp-exporter.ts';
import type { Sampler } from './sampler.ts';
import { finishedSpan, type FinishedSpan } from './span.ts';
import { extractTrace, formatsToWrite, newSpanId, newTraceId, traceHeaders, type HopTrace } from './trace-context.ts';

/** Where sampled spans go (the OTLP exporter). */
export interface SpanSink extends TracingCounters {
  add(span: FinishedSpan): void;
  close(): Promise<void>;
}

export interface BegunSpan {
  readonly trace: HopTrace;
  /** Sampled, and there is an exporter: the span will be sent. */
  readonly recorded: boolean;
  /** The trace headers for the next hop, replacing the caller's. */
  readonly headers: Record<string, string>;
}

const NO_COUNTS: TracingCounters = Object.freeze({ spansExported: 0, spansDropped: 0, exportFailures: 0 });

export class Tracer {
  private readonly sampler: Sampler;
  private readonly sink: SpanSink | undefined;

  constructor(sampler: Sampler, sink: SpanSink | undefined) {
    this.sampler = sampler;
    this.sink = sink;
  }

  /**
   * This hop's span for a request with `headers`: same trace as the caller's, the caller's
   * span as parent, the caller's sampling decision (ours when it made none).
   */
  begin(headers: HeaderMap): BegunSpan {
    const incoming = extractTrace(headers);
    const sampled = incoming.debug || this.sampler.decide(incoming.sampled);
    const trace: HopTrace = {
      traceId: incoming.parent?.traceId ?? newTraceId(),
      spanId: newSpanId(),
      parentSpanId: incoming.parent?.spanId,
      sampled,
      debug: incoming.debug,
      traceState: incoming.parent?.traceState,
    };
    return { trace, recorded: sampled && this.sink !== undefined, headers: traceHeaders(trace, formatsToWrite(incoming)) };
  }

  /** Ends the span of a completed request (once per request, from the exchange). */
  finish(completion: Completion): void {
    if (!this.sink) return;
    const span = finishedSpan(completion);
    if (span) this.sink.add(span);
  }

  counters(): TracingCounters {
    const { spansExported, spansDropped, exportFailures } = this.sink ?? NO_COUNTS;
    return { spansExported, spansDropped, exportFailures };
  }

  close(): Promise<void> {
    return this.sink?.close() ?? Promise.resolve();
  }
}
