import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Completion } from '../http/exchange.ts';
import { newContext } from '../http/handler.ts';
import { AccessLog, parseAccessLogMode } from './access-log.ts';
import type { RequestTelemetry } from './request-telemetry.ts';

function completion(requestId = 'req-1'): Completion {
  const context = newContext('inbound');
  context.upstreamAddress = '127.0.0.1:8080';
  context.routeName = 'default';
  const telemetry: RequestTelemetry = {
    method: 'GET',
    authority: 'orders:8080',
    path: '/orders',
    userAgent: 'curl/8',
    httpVersion: '1.1',
    callerSpiffeId: 'spiffe://cluster.local/ns/default/sa/frontend',
    requestId,
    trace: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', parentSpanId: undefined, sampled: false, debug: false, traceState: undefined },
    recorded: false,
    startUnixNano: 0n,
    requestBytes: 5,
    responseBytes: undefined,
  };
  context.telemetry = telemetry;
  return { context, status: 200, flag: '', durationSeconds: 0.0123456 };
}

function capture(mode: string): { log: AccessLog; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { log: new AccessLog(parseAccessLogMode(mode, '--access-log'), { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) }), lines };
}

describe('AccessLog', () => {
  it('writes one line per request with the listed fields, marked log=access', () => {
    const { log, lines } = capture('all');
    log.record(completion());
    assert.equal(lines.length, 1);
    const { time, ...line } = lines[0] as Record<string, unknown>;
    assert.equal(typeof time, 'string');
    assert.deepEqual(line, {
      level: 30,
      log: 'access',
      direction: 'inbound',
      method: 'GET',
      authority: 'orders:8080',
      path: '/orders',
      status: 200,
      response_flags: '-',
      duration_ms: 12.346,
      upstream_address: '127.0.0.1:8080',
      route: 'default',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      request_id: 'req-1',
      peer_spiffe_id: 'spiffe://cluster.local/ns/default/sa/frontend',
      bytes_received: 5,
    });
  });

  it('off writes nothing', () => {
    const { log, lines } = capture('off');
    log.record(completion());
    assert.equal(lines.length, 0);
  });

  it('sampled:PERCENT writes about that share, the same requests on every sidecar (by request id)', () => {
    const { log, lines } = capture('sampled:20');
    const ids = Array.from({ length: 5000 }, () => randomUUID());
    for (const id of ids) log.record(completion(id));
    assert.ok(lines.length > 800 && lines.length < 1200, `${lines.length} of 5000 at 20%`);
    const again = capture('sampled:20');
    for (const id of ids) again.log.record(completion(id));
    assert.deepEqual(
      again.lines.map((line) => line.request_id),
      lines.map((line) => line.request_id),
    );
  });

  it('refuses modes it does not know', () => {
    assert.deepEqual(parseAccessLogMode('sampled:2.5', '--access-log'), { kind: 'sampled', percent: 2.5 });
    assert.throws(() => parseAccessLogMode('some', '--access-log'), /--access-log must be off, all or sampled:PERCENT, got "some"/);
    assert.throws(() => parseAccessLogMode('sampled:150', '--access-log'), /--access-log sampled:PERCENT must be a percentage from 0 to 100/);
    assert.throws(() => parseAccessLogMode('sampled:', '--access-log'), /percentage/);
  });
});
