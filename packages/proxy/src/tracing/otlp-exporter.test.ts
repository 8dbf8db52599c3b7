import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { pollUntil, type Logger } from '@weft/runtime';
import { OtlpHttpExporter, type BatchSettings } from './otlp-exporter.ts';
import type { FinishedSpan } from './span.ts';

const RESOURCE = { workload: 'orders-1', namespace: 'shop', proxyVersion: '0.1.0' };
const NEVER_MS = 3_600_000;

function span(index: number, overrides: Partial<FinishedSpan> = {}): FinishedSpan {
  return {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: index.toString(16).padStart(16, '0'),
    parentSpanId: undefined,
    traceState: undefined,
    name: 'GET orders',
    kind: 'CLIENT',
    startUnixNano: 1_700_000_000_000_000_000n,
    endUnixNano: 1_700_000_000_250_000_000n,
    attributes: { 'http.request.method': 'GET', 'http.response.status_code': 200 },
    error: false,
    ...overrides,
  };
}

interface Export {
  readonly contentType: string | undefined;
  readonly path: string | undefined;
  readonly body: {
    resourceSpans: { resource: { attributes: unknown[] }; scopeSpans: { scope: { name: string }; spans: Record<string, unknown>[] }[] }[];
  };
}

/** An OTLP/HTTP receiver: records each export; `hold` keeps answers back until released. */
class Collector {
  readonly exports: Export[] = [];
  readonly server: Server;
  status = 200;
  hold = false;
  private readonly held: ServerResponse[] = [];

  constructor() {
    this.server = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.exports.push({ contentType: request.headers['content-type'], path: request.url, body: JSON.parse(Buffer.concat(chunks).toString()) as Export['body'] });
        this.server.emit('export');
        if (this.hold) this.held.push(response);
        else response.writeHead(this.status, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  async listen(): Promise<URL> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return new URL(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/traces`);
  }

  release(): void {
    this.hold = false;
    for (const response of this.held.splice(0)) response.writeHead(200).end('{}');
  }

  batchSizes(): number[] {
    return this.exports.map((exported) => exported.body.resourceSpans[0]?.scopeSpans[0]?.spans.length ?? 0);
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log: Logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

function settings(overrides: Partial<BatchSettings>): BatchSettings {
  return { maxQueueSize: 2048, maxBatchSize: 512, flushIntervalMs: NEVER_MS, exportTimeoutMs: 5000, ...overrides };
}

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function collector(): Promise<{ collector: Collector; endpoint: URL }> {
  const created = new Collector();
  cleanups.push(() => created.close());
  return { collector: created, endpoint: await created.listen() };
}

describe('OtlpHttpExporter', () => {
  it('posts an ExportTraceServiceRequest as JSON: resource, scope, hex ids, nanosecond strings, enum numbers', async () => {
    const { collector: receiver, endpoint } = await collector();
    const exporter = new OtlpHttpExporter({ endpoint, resource: RESOURCE, settings: settings({ flushIntervalMs: 20 }), log: capturingLogger().log });
    exporter.add(span(1, { parentSpanId: 'a3ce929d0e0e4736', traceState: 'k=v', kind: 'SERVER', error: true, attributes: { 'url.path': '/x', 'server.port': 8080, 'x.ok': true } }));
    await once(receiver.server, 'export');
    await exporter.close();
    const [exported] = receiver.exports;
    assert.ok(exported);
    assert.equal(exported.contentType, 'application/json');
    assert.equal(exported.path, '/v1/traces');
    assert.deepEqual(exported.body, {
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'orders-1' } },
              { key: 'k8s.namespace.name', value: { stringValue: 'shop' } },
            ],
          },
          scopeSpans: [
            {
              scope: { name: 'weft-proxy', version: '0.1.0' },
              spans: [
                {
                  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
                  spanId: '0000000000000001',
                  parentSpanId: 'a3ce929d0e0e4736',
                  traceState: 'k=v',
                  name: 'GET orders',
                  kind: 2,
                  startTimeUnixNano: '1700000000000000000',
                  endTimeUnixNano: '1700000000250000000',
                  attributes: [
                    { key: 'url.path', value: { stringValue: '/x' } },
                    { key: 'server.port', value: { intValue: '8080' } },
                    { key: 'x.ok', value: { boolValue: true } },
                  ],
                  status: { code: 2 },
                },
              ],
            },
          ],
        },
      ],
    });
    assert.equal(exporter.spansExported, 1);
  });

  it('sends a batch as soon as it fills, without waiting for the interval, and the rest on close', async () => {
    const { collector: receiver, endpoint } = await collector();
    const exporter = new OtlpHttpExporter({ endpoint, resource: RESOURCE, settings: settings({ maxBatchSize: 4 }), log: capturingLogger().log });
    for (let i = 1; i <= 10; i++) exporter.add(span(i));
    await pollUntil('two full batches', 5000, () => (receiver.exports.length >= 2 ? true : undefined));
    assert.deepEqual(receiver.batchSizes(), [4, 4]);
    await exporter.close();
    assert.deepEqual(receiver.batchSizes(), [4, 4, 2]);
    assert.equal(exporter.spansExported, 10);
  });

  it('sends what is queued every flush interval', async () => {
    const { collector: receiver, endpoint } = await collector();
    const exporter = new OtlpHttpExporter({ endpoint, resource: RESOURCE, settings: settings({ flushIntervalMs: 20 }), log: capturingLogger().log });
    exporter.add(span(1));
    exporter.add(span(2));
    await once(receiver.server, 'export');
    assert.deepEqual(receiver.batchSizes(), [2]);
    await exporter.close();
  });

  it('bounds the queue while an export hangs: further spans are dropped and counted', async () => {
    const { collector: receiver, endpoint } = await collector();
    receiver.hold = true;
    const { log, lines } = capturingLogger();
    const exporter = new OtlpHttpExporter({ endpoint, resource: RESOURCE, settings: settings({ maxQueueSize: 8, maxBatchSize: 4 }), log });
    for (let i = 0; i < 4; i++) exporter.add(span(i));
    await once(receiver.server, 'export');
    for (let i = 0; i < 20; i++) exporter.add(span(100 + i));
    assert.equal(exporter.spansDropped, 12);
    assert.equal(lines.filter((line) => line.msg === 'span queue full: dropping spans').length, 1, 'warned once');
    receiver.release();
    await pollUntil('the queue drained', 5000, () => (exporter.spansExported === 12 ? true : undefined));
    assert.deepEqual(receiver.batchSizes(), [4, 4, 4]);
    await exporter.close();
  });

  it('counts an unreachable collector, a non-2xx answer and a timeout as failures, and goes on', async () => {
    const closed = createTcpServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    closed.close();
    const refused = new OtlpHttpExporter({ endpoint: new URL(`http://127.0.0.1:${closedPort}/v1/traces`), resource: RESOURCE, settings: settings({ flushIntervalMs: 10 }), log: capturingLogger().log });
    refused.add(span(1));
    await pollUntil('a refused export', 5000, () => (refused.exportFailures === 1 ? true : undefined));
    assert.equal(refused.spansExported, 0);
    await refused.close();

    const { collector: receiver, endpoint } = await collector();
    receiver.status = 503;
    const rejected = new OtlpHttpExporter({ endpoint, resource: RESOURCE, settings: settings({ flushIntervalMs: 10 }), log: capturingLogger().log });
    rejected.add(span(1));
    await pollUntil('a 503 export', 5000, () => (rejected.exportFailures === 1 ? true : undefined));
    receiver.status = 200;
    rejected.add(span(2));
    await pollUntil('the next export succeeds', 5000, () => (rejected.spansExported === 1 ? true : undefined));
    await rejected.close();

    // Accepts connections and never answers.
    const sockets: Socket[] = [];
    const blackhole = createTcpServer((socket) => sockets.push(socket));
    blackhole.listen(0, '127.0.0.1');
    await once(blackhole, 'listening');
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      blackhole.close();
    });
    const hanging = new OtlpHttpExporter({
      endpoint: new URL(`http://127.0.0.1:${(blackhole.address() as AddressInfo).port}/v1/traces`),
      resource: RESOURCE,
      settings: settings({ flushIntervalMs: 10, exportTimeoutMs: 100 }),
      log: capturingLogger().log,
    });
    hanging.add(span(1));
    await pollUntil('a timed-out export', 5000, () => (hanging.exportFailures === 1 ? true : undefined));
    await hanging.close();
  });

  it('on close, sends what is left but gives up after a failed export: shutdown waits one timeout at most', async () => {
    const sockets: Socket[] = [];
    const blackhole = createTcpServer((socket) => sockets.push(socket));
    blackhole.listen(0, '127.0.0.1');
    await once(blackhole, 'listening');
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      blackhole.close();
    });
    const exporter = new OtlpHttpExporter({
      endpoint: new URL(`http://127.0.0.1:${(blackhole.address() as AddressInfo).port}/v1/traces`),
      resource: RESOURCE,
      settings: settings({ maxBatchSize: 2, exportTimeoutMs: 100 }),
      log: capturingLogger().log,
    });
    for (let i = 0; i < 6; i++) exporter.add(span(i));
    await pollUntil('the first export connected', 5000, () => (sockets.length === 1 ? true : undefined));
    await exporter.close();
    assert.equal(exporter.exportFailures, 1);
    assert.equal(sockets.length, 1, 'no export tried after the failure');
  });

  it('logs failures at most once per interval, with the counts and without the endpoint path', async () => {
    const closed = createTcpServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const { log, lines } = capturingLogger();
    const exporter = new OtlpHttpExporter({ endpoint: new URL(`http://user:secret@127.0.0.1:${port}/v1/traces?token=abc`), resource: RESOURCE, settings: settings({ flushIntervalMs: 5 }), log, warningIntervalMs: NEVER_MS });
    for (let i = 0; i < 5; i++) {
      exporter.add(span(i));
      const failures = exporter.exportFailures;
      await pollUntil('one more failure', 5000, () => (exporter.exportFailures > failures ? true : undefined));
    }
    await exporter.close();
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.msg, 'span export failed');
    assert.equal(lines[0]?.exportFailures, 1);
    assert.equal(lines[0]?.endpoint, `http://127.0.0.1:${port}`);
    assert.ok(!JSON.stringify(lines).includes('secret') && !JSON.stringify(lines).includes('token=abc'));
  });
});
