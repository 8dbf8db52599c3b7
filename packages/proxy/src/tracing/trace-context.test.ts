import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractTrace, formatsToWrite, newSpanId, newTraceId, parseB3Multi, parseB3Single, parseTraceparent, parseTracestate, traceHeaders, replaceTraceHeaders, type HopTrace } from './trace-context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const PARENT = 'a3ce929d0e0e4736';

describe('W3C traceparent', () => {
  it('reads trace id, parent id and the sampled flag', () => {
    assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`), { traceId: TRACE, spanId: SPAN, sampled: true });
    assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-00`), { traceId: TRACE, spanId: SPAN, sampled: false });
    // Other flag bits do not hide the sampled bit.
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.sampled, true);
  });

  it('accepts a later version with more fields, and refuses ff and extra fields in version 00', () => {
    assert.equal(parseTraceparent(`01-${TRACE}-${SPAN}-01-what-comes-next`)?.traceId, TRACE);
    assert.equal(parseTraceparent(`ff-${TRACE}-${SPAN}-01`), undefined);
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-01-extra`), undefined);
  });

  it('refuses all-zero ids, upper case, wrong lengths and junk', () => {
    for (const bad of [
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `00-${TRACE.slice(1)}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}0-01`,
      `00-${TRACE}-${SPAN}-1`,
      `00_${TRACE}_${SPAN}_01`,
      '',
      'garbage',
    ]) {
      assert.equal(parseTraceparent(bad), undefined, bad);
    }
  });

  it('keeps a well-formed tracestate and drops a malformed or oversized one whole', () => {
    assert.equal(parseTracestate('congo=t61rcWkgMzE, rojo=00f067aa0ba902b7'), 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    assert.equal(parseTracestate('tenant@vendor=x'), 'tenant@vendor=x');
    assert.equal(parseTracestate('Upper=1'), undefined);
    assert.equal(parseTracestate('novalue'), undefined);
    assert.equal(parseTracestate('a=1,b=has=equals'), undefined);
    assert.equal(parseTracestate(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')), undefined);
    assert.equal(parseTracestate(`k=${'v'.repeat(600)}`), undefined);
  });
});

describe('B3', () => {
  it('single header: trace-span, with sampling and parent, 64-bit trace ids padded', () => {
    assert.deepEqual(parseB3Single(`${TRACE}-${SPAN}`), { sampled: undefined, debug: false, span: { traceId: TRACE, spanId: SPAN } });
    assert.deepEqual(parseB3Single(`${TRACE}-${SPAN}-1-${PARENT}`), { sampled: true, debug: false, span: { traceId: TRACE, spanId: SPAN } });
    assert.deepEqual(parseB3Single(`${TRACE}-${SPAN}-0`), { sampled: false, debug: false, span: { traceId: TRACE, spanId: SPAN } });
    assert.deepEqual(parseB3Single(`${TRACE}-${SPAN}-d`), { sampled: true, debug: true, span: { traceId: TRACE, spanId: SPAN } });
    assert.equal(parseB3Single(`${PARENT}-${SPAN}-1`)?.span?.traceId, `0000000000000000${PARENT}`);
  });

  it('single header: a sampling decision alone (0, 1, d)', () => {
    assert.deepEqual(parseB3Single('0'), { sampled: false, debug: false, span: undefined });
    assert.deepEqual(parseB3Single('1'), { sampled: true, debug: false, span: undefined });
    assert.deepEqual(parseB3Single('d'), { sampled: true, debug: true, span: undefined });
  });

  it('single header: refuses bad ids, bad sampling, extra fields and prototype names', () => {
    for (const bad of [`${'0'.repeat(32)}-${SPAN}-1`, `${TRACE}-${'0'.repeat(16)}`, `${TRACE}-${SPAN}-x`, `${TRACE}-${SPAN}-`, `${TRACE}-${SPAN}-1-${PARENT}-1`, `${TRACE}-${SPAN}-1-zz`, `${TRACE.slice(2)}-${SPAN}`, 'toString', 'constructor', TRACE]) {
      assert.equal(parseB3Single(bad), undefined, bad);
    }
  });

  it('multi header: ids, sampled 1/0/true/false, flags 1 is debug', () => {
    assert.deepEqual(parseB3Multi({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' }), { sampled: true, debug: false, span: { traceId: TRACE, spanId: SPAN } });
    assert.equal(parseB3Multi({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': 'false' })?.sampled, false);
    assert.deepEqual(parseB3Multi({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' }), { sampled: true, debug: true, span: { traceId: TRACE, spanId: SPAN } });
    assert.deepEqual(parseB3Multi({ 'x-b3-sampled': '0' }), { sampled: false, debug: false, span: undefined });
    assert.equal(parseB3Multi({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN })?.sampled, undefined);
  });

  it('multi header: refuses a lone id, bad ids and bad sampling values', () => {
    assert.equal(parseB3Multi({ 'x-b3-traceid': TRACE }), undefined);
    assert.equal(parseB3Multi({ 'x-b3-traceid': TRACE, 'x-b3-spanid': '0'.repeat(16) }), undefined);
    assert.equal(parseB3Multi({ 'x-b3-traceid': 'xyz', 'x-b3-spanid': SPAN }), undefined);
    assert.equal(parseB3Multi({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': 'yes' }), undefined);
    assert.equal(parseB3Multi({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': 'constructor' }), undefined);
  });
});

describe('extractTrace', () => {
  it('prefers a valid traceparent, keeping its tracestate, and notes every format present', () => {
    const incoming = extractTrace({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'k=v', b3: `${PARENT}-${PARENT}-0`, 'x-b3-sampled': '0' });
    assert.deepEqual(incoming.parent, { traceId: TRACE, spanId: SPAN, traceState: 'k=v' });
    assert.equal(incoming.sampled, true);
    assert.deepEqual([...incoming.formats].sort(), ['b3-multi', 'b3-single', 'w3c']);
  });

  it('falls back to b3 when the traceparent is invalid, and drops the tracestate with it', () => {
    const incoming = extractTrace({ traceparent: 'broken', tracestate: 'k=v', b3: `${TRACE}-${SPAN}-1` });
    assert.deepEqual(incoming.parent, { traceId: TRACE, spanId: SPAN, traceState: undefined });
    assert.equal(incoming.sampled, true);
  });

  it('falls back to X-B3-* when b3 is invalid', () => {
    const incoming = extractTrace({ b3: 'broken', 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' });
    assert.equal(incoming.parent?.spanId, SPAN);
    assert.equal(incoming.sampled, false);
  });

  it('has no parent when nothing valid came, but keeps a bare sampling decision', () => {
    assert.equal(extractTrace({ traceparent: `00-${'0'.repeat(32)}-${SPAN}-01` }).parent, undefined);
    assert.deepEqual(extractTrace({ b3: '0' }), { parent: undefined, sampled: false, debug: false, formats: new Set(['b3-single']) });
    assert.deepEqual(extractTrace({}), { parent: undefined, sampled: undefined, debug: false, formats: new Set() });
    // Duplicated headers (an array, or joined by a proxy) are not one valid value.
    assert.equal(extractTrace({ traceparent: [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01`] }).parent, undefined);
  });
});

describe('writing trace headers', () => {
  const hop: HopTrace = { traceId: TRACE, spanId: SPAN, parentSpanId: PARENT, sampled: true, debug: false, traceState: 'k=v' };

  it('writes W3C always, the formats the caller used, and B3 multi when starting a trace', () => {
    assert.deepEqual([...formatsToWrite(extractTrace({ traceparent: `00-${TRACE}-${SPAN}-01` }))], ['w3c']);
    assert.deepEqual([...formatsToWrite(extractTrace({ b3: `${TRACE}-${SPAN}-1` }))].sort(), ['b3-single', 'w3c']);
    assert.deepEqual([...formatsToWrite(extractTrace({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN }))].sort(), ['b3-multi', 'w3c']);
    assert.deepEqual([...formatsToWrite(extractTrace({}))].sort(), ['b3-multi', 'w3c']);
    assert.deepEqual([...formatsToWrite(extractTrace({ b3: 'bad' }))].sort(), ['b3-multi', 'b3-single', 'w3c']);
  });

  it('formats each header with this hop as the span and the caller as its parent', () => {
    assert.deepEqual(traceHeaders(hop, new Set(['w3c', 'b3-single', 'b3-multi'])), {
      traceparent: `00-${TRACE}-${SPAN}-01`,
      tracestate: 'k=v',
      b3: `${TRACE}-${SPAN}-1-${PARENT}`,
      'x-b3-traceid': TRACE,
      'x-b3-spanid': SPAN,
      'x-b3-parentspanid': PARENT,
      'x-b3-sampled': '1',
    });
  });

  it('carries not-sampled and debug, and leaves the parent out of a root span', () => {
    const root = { ...hop, parentSpanId: undefined, sampled: false, traceState: undefined };
    assert.deepEqual(traceHeaders(root, new Set(['w3c', 'b3-single', 'b3-multi'])), {
      traceparent: `00-${TRACE}-${SPAN}-00`,
      b3: `${TRACE}-${SPAN}-0`,
      'x-b3-traceid': TRACE,
      'x-b3-spanid': SPAN,
      'x-b3-sampled': '0',
    });
    const debug = traceHeaders({ ...hop, debug: true }, new Set(['b3-single', 'b3-multi']));
    assert.equal(debug.b3, `${TRACE}-${SPAN}-d-${PARENT}`);
    assert.equal(debug['x-b3-flags'], '1');
    assert.equal(debug['x-b3-sampled'], undefined);
  });

  it('what it writes parses back to the same span', () => {
    const written = traceHeaders(hop, new Set(['w3c', 'b3-single', 'b3-multi']));
    assert.deepEqual(parseTraceparent(written.traceparent ?? ''), { traceId: TRACE, spanId: SPAN, sampled: true });
    assert.deepEqual(parseB3Single(written.b3 ?? '')?.span, { traceId: TRACE, spanId: SPAN });
    assert.deepEqual(parseB3Multi(written)?.span, { traceId: TRACE, spanId: SPAN });
  });

  it('replaces every trace header, leaving the others', () => {
    const stale = { traceparent: 'x', tracestate: 'x', b3: 'x', 'x-b3-traceid': 'x', 'x-b3-spanid': 'x', 'x-b3-parentspanid': 'x', 'x-b3-sampled': 'x', 'x-b3-flags': 'x', accept: '*/*' };
    assert.deepEqual(replaceTraceHeaders(stale, { traceparent: 'new' }), { accept: '*/*', traceparent: 'new' });
    assert.equal(stale.traceparent, 'x', 'the caller\'s map is left alone');
  });

  it('ids stay distinct across refills of the random pool', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newSpanId()));
    assert.equal(ids.size, 2000);
  });

  it('new ids are random lower-case hex of the right length', () => {
    assert.match(newTraceId(), /^[0-9a-f]{32}$/);
    assert.match(newSpanId(), /^[0-9a-f]{16}$/);
    assert.notEqual(newSpanId(), newSpanId());
  });
});
