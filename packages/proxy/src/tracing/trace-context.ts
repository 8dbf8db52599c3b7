// Trace context on the wire: W3C Trace Context (`traceparent`, `tracestate`) and Zipkin B3,
// both the single `b3` header and the multi-header X-B3-* form. Parsing is strict — ids of the
// right length in lower-case hex, never all zeros, known sampling values — and anything that
// fails is ignored as if absent (the proxy then starts a new trace); a caller's bad header is
// never an error. Formatting writes the formats the caller used, so its tooling keeps working.
import { randomFillSync } from 'node:crypto';
import type { HeaderMap } from '../http/handler.ts';

export type TraceFormat = 'w3c' | 'b3-single' | 'b3-multi';

/** The span a caller passed on: ours becomes its child. */
export interface ParentSpan {
  /** 32 lower-case hex digits (a 64-bit B3 trace id is padded on the left with zeros). */
  readonly traceId: string;
  /** 16 lower-case hex digits. */
  readonly spanId: string;
  /** W3C vendor state, passed on unchanged. */
  readonly traceState: string | undefined;
}

/** What a request's trace headers say. */
export interface IncomingTrace {
  readonly parent: ParentSpan | undefined;
  /** The caller's sampling decision; undefined when it left the decision to us. */
  readonly sampled: boolean | undefined;
  /** B3 debug (`d`, X-B3-Flags: 1): sampled, and said so downstream. */
  readonly debug: boolean;
  /** Formats whose headers the request carried, valid or not. */
  readonly formats: ReadonlySet<TraceFormat>;
}

/** This hop's span as the next hop must learn it. */
export interface HopTrace {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly sampled: boolean;
  readonly debug: boolean;
  readonly traceState: string | undefined;
}

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';
export const B3 = 'b3';
export const B3_TRACE_ID = 'x-b3-traceid';
export const B3_SPAN_ID = 'x-b3-spanid';
export const B3_PARENT_SPAN_ID = 'x-b3-parentspanid';
export const B3_SAMPLED = 'x-b3-sampled';
export const B3_FLAGS = 'x-b3-flags';

/** Every header this module reads or writes: removed before writing, so no stale one survives. */
export const TRACE_HEADERS: readonly string[] = [TRACEPARENT, TRACESTATE, B3, B3_TRACE_ID, B3_SPAN_ID, B3_PARENT_SPAN_ID, B3_SAMPLED, B3_FLAGS];
const B3_MULTI_HEADERS = [B3_TRACE_ID, B3_SPAN_ID, B3_PARENT_SPAN_ID, B3_SAMPLED, B3_FLAGS];

const B3_TRACE_ID_FORM = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ALL_ZEROS = /^0+$/;
/** version-traceid-parentid-flags; later versions may append fields after another dash. */
const TRACEPARENT_FORM = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** A tracestate list member: key=value, the key simple or tenant@system (W3C §3.3.1). */
const TRACESTATE_MEMBER = /^(?:[a-z0-9][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
const TRACESTATE_MAX_MEMBERS = 32;
/** W3C asks vendors to pass at least 512 characters on; longer states are dropped, not cut. */
const TRACESTATE_MAX_LENGTH = 512;

function single(value: HeaderMap[string]): string | undefined {
  return typeof value === 'string' ? value.trim() : undefined;
}

function validId(value: string, form: RegExp): boolean {
  return form.test(value) && !ALL_ZEROS.test(value);
}

function padTraceId(traceId: string): string {
  return traceId.padStart(32, '0');
}

/** The traceparent's span and sampled flag, or undefined when it is not a valid one. */
export function parseTraceparent(value: string): { traceId: string; spanId: string; sampled: boolean } | undefined {
  const match = TRACEPARENT_FORM.exec(value);
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  // ff is forbidden; version 00 has exactly four fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ALL_ZEROS.test(traceId) || ALL_ZEROS.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

/** The tracestate if well formed, else undefined (a malformed state is dropped whole). */
export function parseTracestate(value: string | undefined): string | undefined {
  if (value === undefined || value === '' || value.length > TRACESTATE_MAX_LENGTH) return undefined;
  const members = value.split(',').map((member) => member.trim()).filter((member) => member !== '');
  if (members.length === 0 || members.length > TRACESTATE_MAX_MEMBERS) return undefined;
  return members.every((member) => TRACESTATE_MEMBER.test(member)) ? members.join(',') : undefined;
}

type B3Sampling = { sampled: boolean | undefined; debug: boolean };

const B3_SINGLE_SAMPLING = new Map<string, B3Sampling>([
  ['0', { sampled: false, debug: false }],
  ['1', { sampled: true, debug: false }],
  ['d', { sampled: true, debug: true }],
]);

/**
 * The `b3` header: `{trace}-{span}[-{sampling}[-{parent}]]`, or a sampling decision alone
 * (`0`, `1`, `d`). Undefined when malformed.
 */
export function parseB3Single(value: string): (B3Sampling & { span: { traceId: string; spanId: string } | undefined }) | undefined {
  const alone = B3_SINGLE_SAMPLING.get(value);
  if (alone) return { ...alone, span: undefined };
  const [traceId, spanId, sampling, parent, ...extra] = value.split('-');
  if (traceId === undefined || spanId === undefined || extra.length > 0) return undefined;
  if (!validId(traceId, B3_TRACE_ID_FORM) || !validId(spanId, SPAN_ID)) return undefined;
  const decision = sampling === undefined ? { sampled: undefined, debug: false } : B3_SINGLE_SAMPLING.get(sampling);
  if (!decision || (parent !== undefined && !validId(parent, SPAN_ID))) return undefined;
  return { ...decision, span: { traceId: padTraceId(traceId), spanId } };
}

/** X-B3-Sampled takes 1/0 (and the legacy true/false); X-B3-Flags: 1 is debug. */
const B3_SAMPLED_VALUES = new Map([
  ['1', true],
  ['0', false],
  ['true', true],
  ['false', false],
]);

/** The X-B3-* headers; undefined when they are malformed. */
export function parseB3Multi(headers: HeaderMap): (B3Sampling & { span: { traceId: string; spanId: string } | undefined }) | undefined {
  const traceId = single(headers[B3_TRACE_ID]);
  const spanId = single(headers[B3_SPAN_ID]);
  const sampledText = single(headers[B3_SAMPLED]);
  const debug = single(headers[B3_FLAGS]) === '1';
  const sampled = debug ? true : sampledText === undefined ? undefined : B3_SAMPLED_VALUES.get(sampledText);
  if (sampledText !== undefined && !debug && sampled === undefined) return undefined;
  if (traceId === undefined && spanId === undefined) return { sampled, debug, span: undefined };
  if (traceId === undefined || spanId === undefined || !validId(traceId, B3_TRACE_ID_FORM) || !validId(spanId, SPAN_ID)) return undefined;
  return { sampled, debug, span: { traceId: padTraceId(traceId), spanId } };
}

/**
 * What the request's trace headers say. A valid traceparent wins, then a valid `b3`, then
 * valid X-B3-* headers; a format that fails to parse counts as absent.
 */
export function extractTrace(headers: HeaderMap): IncomingTrace {
  const formats = new Set<TraceFormat>();
  if (headers[TRACEPARENT] !== undefined) formats.add('w3c');
  if (headers[B3] !== undefined) formats.add('b3-single');
  if (B3_MULTI_HEADERS.some((name) => headers[name] !== undefined)) formats.add('b3-multi');

  const traceparent = single(headers[TRACEPARENT]);
  const w3c = traceparent === undefined ? undefined : parseTraceparent(traceparent);
  if (w3c) {
    // The tracestate only means something beside a valid traceparent.
    const parent = { traceId: w3c.traceId, spanId: w3c.spanId, traceState: parseTracestate(single(headers[TRACESTATE])) };
    return { parent, sampled: w3c.sampled, debug: false, formats };
  }
  const b3Text = single(headers[B3]);
  const b3 = (b3Text === undefined ? undefined : parseB3Single(b3Text)) ?? (formats.has('b3-multi') ? parseB3Multi(headers) : undefined);
  if (!b3) return { parent: undefined, sampled: undefined, debug: false, formats };
  return { parent: b3.span && { ...b3.span, traceState: undefined }, sampled: b3.sampled, debug: b3.debug, formats };
}

/**
 * The formats to write: the caller's, with W3C always among them; a trace the proxy starts
 * also gets B3 multi-header, the two sets of headers Istio asks applications to forward.
 */
export function formatsToWrite(incoming: IncomingTrace): ReadonlySet<TraceFormat> {
  const formats = new Set<TraceFormat>(incoming.formats);
  formats.add('w3c');
  if (!incoming.parent) formats.add('b3-multi');
  return formats;
}

/** The headers that pass `hop` on in `formats`. */
export function traceHeaders(hop: HopTrace, formats: ReadonlySet<TraceFormat>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (formats.has('w3c')) {
    headers[TRACEPARENT] = `00-${hop.traceId}-${hop.spanId}-${hop.sampled ? '01' : '00'}`;
    if (hop.traceState) headers[TRACESTATE] = hop.traceState;
  }
  const sampling = hop.debug ? 'd' : hop.sampled ? '1' : '0';
  if (formats.has('b3-single')) headers[B3] = `${hop.traceId}-${hop.spanId}-${sampling}${hop.parentSpanId ? `-${hop.parentSpanId}` : ''}`;
  if (formats.has('b3-multi')) {
    headers[B3_TRACE_ID] = hop.traceId;
    headers[B3_SPAN_ID] = hop.spanId;
    if (hop.parentSpanId) headers[B3_PARENT_SPAN_ID] = hop.parentSpanId;
    // Debug implies sampled; B3 says not to send both.
    if (hop.debug) headers[B3_FLAGS] = '1';
    else headers[B3_SAMPLED] = sampling;
  }
  return headers;
}

const TRACE_HEADER_SET: ReadonlySet<string> = new Set(TRACE_HEADERS);

/**
 * `headers` without any trace header, plus `add`: what `traceHeaders` writes replaces them all.
 * Copied key by key rather than deleted from a copy: deleting turns a V8 object into a slow
 * dictionary, and this runs on every request.
 */
export function replaceTraceHeaders(headers: HeaderMap, add: HeaderMap): HeaderMap {
  const out: HeaderMap = {};
  for (const name in headers) if (!TRACE_HEADER_SET.has(name)) out[name] = headers[name];
  return Object.assign(out, add);
}

/** Random bytes drawn in bulk: one randomFillSync per 512 ids instead of one per id. */
const RANDOM_POOL = Buffer.alloc(4096);
let poolOffset = RANDOM_POOL.length;

function randomId(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > RANDOM_POOL.length) {
      randomFillSync(RANDOM_POOL);
      poolOffset = 0;
    }
    const id = RANDOM_POOL.toString('hex', poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (!ALL_ZEROS.test(id)) return id;
  }
}

export function newTraceId(): string {
  return randomId(16);
}

export function newSpanId(): string {
  return randomId(8);
}
