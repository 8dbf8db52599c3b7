import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttp1Server } from 'node:http';
import { connect, createServer as createHttp2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { Pool } from 'undici';
import { PLAINTEXT } from '../../http/handler.ts';
import { forward } from './forward.ts';

describe('forward', () => {
  const closers: (() => unknown)[] = [];
  after(async () => {
    for (const close of closers) await close();
  });

  it('sends an HTTP/2 request body to an HTTP/1.1 upstream and can still answer on that stream', async () => {
    const app = createHttp1Server((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => response.end(`got ${Buffer.concat(chunks).toString()}`));
    });
    app.listen(0, '127.0.0.1');
    await once(app, 'listening');
    const address = `127.0.0.1:${(app.address() as AddressInfo).port}`;
    const pool = new Pool(`http://${address}`);
    closers.push(() => app.close(), () => pool.close());

    // Inbound over h2c, as sidecar to sidecar, to an HTTP/1.1 application.
    const proxy = createHttp2Server();
    proxy.on('stream', (stream: ServerHttp2Stream) => {
      const request = { method: 'POST', path: '/', authority: 'app', headers: { 'content-length': '5' }, body: stream, signal: new AbortController().signal, connection: PLAINTEXT, remoteAddress: '' };
      void forward(pool, address, request).then(async (response) => {
        const text = await (response.body as NonNullable<typeof response.body>).toArray();
        stream.respond({ ':status': response.status });
        stream.end(Buffer.concat(text as Buffer[]));
      });
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const session = connect(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    closers.push(() => session.close(), () => proxy.close());

    const stream = session.request({ ':method': 'POST', ':path': '/', 'content-length': '5' });
    stream.end('hello');
    const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
    const body = Buffer.concat((await stream.toArray()) as Buffer[]).toString();
    assert.equal(headers[':status'], 200);
    assert.equal(body, 'got hello');
  });
});
