// OTLP/HTTP JSON encoding of spans: an ExportTraceServiceRequest (resourceSpans → scopeSpans →
// spans) as the OTLP specification maps protobuf to JSON — ids as hex strings (not base64),
// 64-bit integers (times, intValue) as decimal strings, enums as numbers, lowerCamelCase keys.
import type { AttributeValue, FinishedSpan } from './span.ts';

/** Who emitted the spans: the resource every span of this sidecar belongs to. */
export interface TraceResource {
  /** service.name: the workload. */
  readonly workload: string;
  readonly namespace: string;
  /** The instrumentation scope's version. */
  readonly proxyVersion: string;
}

/** opentelemetry.proto.trace.v1.Span.SpanKind */
const SPAN_KIND = { SERVER: 2, CLIENT: 3 } as const;
/** opentelemetry.proto.trace.v1.Status.StatusCode */
const STATUS_ERROR = 2;

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };

function anyValue(value: AttributeValue): AnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}

function keyValues(attributes: Readonly<Record<string, AttributeValue>>): { key: string; value: AnyValue }[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }));
}

function spanJson(span: FinishedSpan): Record<string, unknown> {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
    ...(span.traceState ? { traceState: span.traceState } : {}),
    name: span.name,
    kind: SPAN_KIND[span.kind],
    startTimeUnixNano: String(span.startUnixNano),
    endTimeUnixNano: String(span.endUnixNano),
    attributes: keyValues(span.attributes),
    status: span.error ? { code: STATUS_ERROR } : {},
  };
}

/** The request body for POST {endpoint} with content-type application/json. */
export function exportTraceServiceRequest(resource: TraceResource, spans: readonly FinishedSpan[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: keyValues({ 'service.name': resource.workload, 'k8s.namespace.name': resource.namespace }) },
        scopeSpans: [{ scope: { name: 'weft-proxy', version: resource.proxyVersion }, spans: spans.map(spanJson) }],
      },
    ],
  });
}
