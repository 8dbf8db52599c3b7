import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as http2Connect, createServer as createHttp2Server, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { ProxyError, ProxyErrorKind } from '../../errors.ts';
import { PLAINTEXT, type ProxyRequest, type ProxyResponse } from '../../http/handler.ts';
import { Http1Transport } from './http1-transport.ts';
import { DEFAULT_POOL_SETTINGS, type PoolSettings } from './upstream-pools.ts';
import { neverProcessed } from './upstream-errors.ts';

const closers: (() => unknown)[] = [];
after(async () => {
  for (const close of closers.reverse()) await close();
});

function request(overrides: Partial<ProxyRequest> = {}): ProxyRequest {
  return { method: 'GET', path: '/', authority: 'upstream.test', headers: {}, body: null, signal: new AbortController().signal, connection: PLAINTEXT, remoteAddress: '', ...overrides };
}

function transportTo(port: number, settings: Partial<PoolSettings> = {}, connectTls?: () => Socket): Http1Transport {
  const transport = new Http1Transport({ address: `127.0.0.1:${port}`, host: '127.0.0.1', port, settings: { ...DEFAULT_POOL_SETTINGS, ...settings }, ...(connectTls ? { connectTls } : {}) });
  closers.push(() => transport.destroy());
  return transport;
}

async function text(response: ProxyResponse): Promise<string> {
  return response.body ? Buffer.concat((await response.body.toArray()) as Buffer[]).toString() : '';
}

interface RawServer {
  readonly port: number;
  /** Server-side sockets, in the order the connections arrived. */
  readonly sockets: Socket[];
}

/**
 * A raw TCP server: `onRequest` is called with each request head (the bytes up to the blank
 * line; these tests send no request bodies to it) and the socket to answer on.
 */
async function rawServer(onRequest: (socket: Socket, head: string, index: number) => void): Promise<RawServer> {
  const sockets: Socket[] = [];
  const server: Server = createNetServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
    let buffered = '';
    let index = 0;
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        onRequest(socket, head, index++);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as AddressInfo).port, sockets };
}

/** An HTTP server from node:http, counting the connections it accepted. */
async function httpServer(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ port: number; connections: () => number }> {
  const server = createHttpServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function assertProxyError(kind: ProxyErrorKind): (error: unknown) => boolean {
  return (error) => error instanceof ProxyError && error.kind === kind;
}

describe('Http1Transport', () => {
  it('reuses one keep-alive connection for requests one after another, and sends the head as given', async () => {
    const seen: string[] = [];
    const server = await httpServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.host} ${String(req.headers['x-multi'])}`);
      res.end(`answer ${seen.length}`);
    });
    const transport = transportTo(server.port);
    for (let i = 1; i <= 3; i++) {
      const response = await transport.send(request({ path: `/p?i=${i}`, headers: { 'x-multi': ['a', 'b'] } }), { 'x-extra': '1' });
      assert.equal(response.status, 200);
      assert.equal(await text(response), `answer ${i}`);
    }
    assert.equal(server.connections(), 1);
    assert.deepEqual(seen, ['GET /p?i=1 upstream.test a, b', 'GET /p?i=2 upstream.test a, b', 'GET /p?i=3 upstream.test a, b']);
  });

  it('passes response headers on without hop-by-hop ones, repeats as arrays', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive, x-secret\r\nX-Secret: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Kept: yes\r\n\r\nok'));
    const response = await transportTo(server.port).send(request());
    assert.deepEqual(response.headers, { 'content-length': '2', 'set-cookie': ['a=1', 'b=2'], 'x-kept': 'yes' });
    assert.equal(await text(response), 'ok');
  });

  it('opens connections for concurrent requests, then reuses the one released last first', async () => {
    const waiting: (() => void)[] = [];
    const server = await rawServer((socket) => {
      const connection = server.sockets.indexOf(socket);
      waiting.push(() => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${connection}`));
    });
    const transport = transportTo(server.port);
    const first = transport.send(request());
    const second = transport.send(request());
    await until(() => waiting.length === 2, 'both requests to arrive');
    // Connection 0 answers (and is released) first, then connection 1.
    waiting.shift()?.();
    const firstText = await text(await first);
    waiting.shift()?.();
    const secondText = await text(await second);
    assert.deepEqual([firstText, secondText], ['0', '1']);
    const next = transport.send(request());
    await until(() => waiting.length === 1, 'the third request to arrive');
    waiting.shift()?.();
    assert.equal(await text(await next), '1', 'the connection released last');
    assert.equal(server.sockets.length, 2);
  });

  it('does not reuse a connection whose response body the consumer abandoned', async () => {
    const server = await rawServer((socket) => {
      if (server.sockets.length === 1) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf ');
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfull');
    });
    const transport = transportTo(server.port);
    const abandoned = await transport.send(request());
    abandoned.body?.destroy();
    await until(() => server.sockets[0]?.readyState === 'closed', 'the abandoned connection to close');
    assert.equal(await text(await transport.send(request())), 'full');
    assert.equal(server.sockets.length, 2);
  });

  it('opens a new connection after the upstream answered connection: close', async () => {
    const server = await rawServer((socket) => socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'));
    const transport = transportTo(server.port);
    assert.equal(await text(await transport.send(request())), 'ok');
    assert.equal(await text(await transport.send(request())), 'ok');
    assert.equal(server.sockets.length, 2);
  });

  it('reads a body delimited by the close and does not reuse that connection', async () => {
    const server = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ');
      setImmediate(() => socket.end('the end'));
    });
    const transport = transportTo(server.port);
    assert.equal(await text(await transport.send(request())), 'until the end');
    assert.equal(await text(await transport.send(request())), 'until the end');
    assert.equal(server.sockets.length, 2);
  });

  it('expects no body after HEAD, 204 and 304 and keeps the connection', async () => {
    const server = await rawServer((socket, head) => {
      if (head.startsWith('HEAD')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n');
      else if (head.includes('/no-content')) socket.write('HTTP/1.1 204 No Content\r\n\r\n');
      else socket.write('HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n');
    });
    const transport = transportTo(server.port);
    const head = await transport.send(request({ method: 'HEAD' }));
    assert.equal(head.body, null);
    assert.equal(head.headers['content-length'], '100');
    assert.equal((await transport.send(request({ path: '/no-content' }))).status, 204);
    const notModified = await transport.send(request({ path: '/cached' }));
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body, null);
    assert.equal(server.sockets.length, 1);
  });

  it('skips 100 Continue and reports the final response', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone'));
    const response = await transportTo(server.port).send(request());
    assert.equal(response.status, 201);
    assert.equal(await text(response), 'done');
  });

  it('reports chunked trailers once the body has ended', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nGrpc-Status: 0\r\nGrpc-Message: fine\r\n\r\n'));
    const response = await transportTo(server.port).send(request());
    assert.equal(await text(response), 'abc');
    assert.deepEqual(await response.trailers?.(), { 'grpc-status': '0', 'grpc-message': 'fine' });
  });

  it('fails with UC when the upstream resets before the response head', async () => {
    const server = await rawServer((socket) => socket.resetAndDestroy());
    await assert.rejects(transportTo(server.port).send(request()), assertProxyError(ProxyErrorKind.UPSTREAM_RESET));
  });

  it('fails with UC on a malformed response and does not reuse the connection', async () => {
    const server = await rawServer((socket) => socket.write(server.sockets.length === 1 ? 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    const transport = transportTo(server.port);
    await assert.rejects(transport.send(request()), (error) => assertProxyError(ProxyErrorKind.UPSTREAM_RESET)(error) && /transfer-encoding and content-length/.test((error as Error).message));
    assert.equal(await text(await transport.send(request())), 'ok');
    assert.equal(server.sockets.length, 2);
  });

  it('errors the body stream when the upstream resets mid-body', async () => {
    const server = await rawServer((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial', () => setImmediate(() => socket.resetAndDestroy()));
    });
    const response = await transportTo(server.port).send(request());
    await assert.rejects(text(response), assertProxyError(ProxyErrorKind.UPSTREAM_RESET));
    assert.equal(await response.trailers?.(), undefined);
  });

  it('maps a refused connection to UF that is known never to have been processed', async () => {
    const closed = createNetServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await transportTo(port)
      .send(request())
      .then(
        () => assert.fail('should have been refused'),
        (failure: unknown) => failure,
      );
    assert.ok(assertProxyError(ProxyErrorKind.UPSTREAM_CONNECT_FAILURE)(error));
    assert.equal(((error as Error).cause as { code: string }).code, 'ECONNREFUSED');
    assert.ok(neverProcessed(error));
  });

  it('fails with UF when a TLS handshake does not finish within the connect timeout', async () => {
    // Accepts TCP, never answers the ClientHello.
    const server = await rawServer(() => undefined);
    const transport = transportTo(server.port, { connectTimeoutMs: 200 }, () => tlsConnect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false }));
    await assert.rejects(transport.send(request()), (error) => assertProxyError(ProxyErrorKind.UPSTREAM_CONNECT_FAILURE)(error) && /timed out after 200ms/.test((error as Error).message));
    await until(() => server.sockets.length === 1 && server.sockets[0]?.readyState === 'closed', 'the half-open TLS connection to be closed');
  });

  it('cuts the connection when the request is aborted, before or during the body', async () => {
    const server = await rawServer((socket, head) => {
      if (head.includes('/body')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstart');
    });
    const transport = transportTo(server.port);
    const caller = new AbortController();
    const waiting = transport.send(request({ path: '/silent', signal: caller.signal }));
    await until(() => server.sockets.length === 1, 'the request to arrive');
    const reason = new ProxyError(ProxyErrorKind.UPSTREAM_TIMEOUT, 'deadline');
    caller.abort(reason);
    await assert.rejects(waiting, (error) => error === reason);
    await until(() => server.sockets[0]?.readyState === 'closed', 'the aborted connection to close');

    const midBody = new AbortController();
    const response = await transport.send(request({ path: '/body', signal: midBody.signal }));
    midBody.abort();
    await assert.rejects(text(response), assertProxyError(ProxyErrorKind.DOWNSTREAM_GONE));
    await until(() => server.sockets.length === 2 && server.sockets[1]?.readyState === 'closed', 'the second connection to close');
  });

  it('closes a connection after maxRequestsPerConnection requests', async () => {
    const server = await httpServer((_req, res) => res.end('ok'));
    const transport = transportTo(server.port, { maxRequestsPerConnection: 2 });
    for (let i = 0; i < 5; i++) assert.equal(await text(await transport.send(request())), 'ok');
    assert.equal(server.connections(), 3);
  });

  it('closes idle connections after the idle timeout', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    const transport = transportTo(server.port, { idleTimeoutMs: 100 });
    assert.equal(await text(await transport.send(request())), 'ok');
    await until(() => server.sockets[0]?.readyState === 'closed', 'the idle connection to be closed');
    assert.equal(await text(await transport.send(request())), 'ok');
    assert.equal(server.sockets.length, 2);
  });

  it('resends an idempotent request once on a new connection when the idle one it reused was closed (the keep-alive race)', async () => {
    // The upstream answers with keep-alive, then closes that connection as the next request
    // arrives on it, without answering: the race between its idle close and our reuse.
    const server = await rawServer((socket, _head, index) => {
      if (index === 0) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else socket.destroy();
    });
    const transport = transportTo(server.port);
    assert.equal(await text(await transport.send(request())), 'ok');
    assert.equal(await text(await transport.send(request())), 'ok');
    assert.equal(server.sockets.length, 2);
    // A POST could have been processed: it fails rather than risk running twice.
    await assert.rejects(transport.send(request({ method: 'POST' })), assertProxyError(ProxyErrorKind.UPSTREAM_RESET));
    assert.equal(server.sockets.length, 2);
  });

  it('refuses a header value with CR or LF without writing anything', async () => {
    const server = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    const transport = transportTo(server.port);
    await assert.rejects(transport.send(request({ headers: { 'x-split': 'a\r\nx-injected: 1' } })), (error) => assertProxyError(ProxyErrorKind.BAD_REQUEST)(error) && /x-split/.test((error as Error).message));
    await assert.rejects(transport.send(request({ headers: { 'x-list': ['fine', 'bad\n'] } })), assertProxyError(ProxyErrorKind.BAD_REQUEST));
    await assert.rejects(transport.send(request({ path: '/a b' })), assertProxyError(ProxyErrorKind.BAD_REQUEST));
    assert.equal(server.sockets.length, 0);
  });

  it('streams a body of known length as is, and one of unknown length chunked', async () => {
    const seen: string[] = [];
    const server = await httpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push(`${req.headers['content-length']}/${req.headers['transfer-encoding']}/${Buffer.concat(chunks).length}`);
        res.end('ok');
      });
    });
    const transport = transportTo(server.port);
    const big = Buffer.alloc(1 << 20, 'x');
    const { Readable } = await import('node:stream');
    await text(await transport.send(request({ method: 'POST', headers: { 'content-length': String(big.length) }, body: Readable.from([big.subarray(0, 1000), big.subarray(1000)]) })));
    await text(await transport.send(request({ method: 'POST', body: Readable.from([Buffer.from('abc'), Buffer.from('defg')]) })));
    await text(await transport.send(request({ method: 'POST' })));
    assert.deepEqual(seen, [`${big.length}/undefined/${big.length}`, 'undefined/chunked/7', '0/undefined/0']);
    assert.equal(server.connections(), 1);
  });

  it('fails a request whose body is shorter than its content-length', async () => {
    const server = await httpServer((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const { Readable } = await import('node:stream');
    await assert.rejects(transportTo(server.port).send(request({ method: 'POST', headers: { 'content-length': '10' }, body: Readable.from([Buffer.from('short')]) })), assertProxyError(ProxyErrorKind.BAD_REQUEST));
  });

  it('writes nothing upstream when the request body fails before its first byte', async () => {
    const heads: string[] = [];
    const server = await rawServer((_socket, head) => heads.push(head));
    const { Readable } = await import('node:stream');
    const body = new Readable({ read: () => undefined });
    const sending = transportTo(server.port).send(request({ method: 'POST', body }));
    await until(() => server.sockets.length === 1, 'the connection to open');
    body.destroy(new Error('malformed chunked encoding from the caller'));
    await assert.rejects(sending, assertProxyError(ProxyErrorKind.UPSTREAM_RESET));
    await until(() => server.sockets[0]?.readyState === 'closed', 'the connection to close');
    assert.deepEqual(heads, []);
    assert.equal(server.sockets[0]?.bytesRead, 0);
  });

  it('sends an HTTP/2 request body to an HTTP/1.1 upstream and can still answer on that stream', async () => {
    const server = await httpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => res.end(`got ${Buffer.concat(chunks).toString()}`));
    });
    const transport = transportTo(server.port);
    // Inbound over h2c, as sidecar to sidecar, to an HTTP/1.1 application.
    const proxy = createHttp2Server();
    proxy.on('stream', (stream: ServerHttp2Stream) => {
      void transport.send(request({ method: 'POST', headers: { 'content-length': '5' }, body: stream })).then(async (response) => {
        const answer = await text(response);
        stream.respond({ ':status': response.status });
        stream.end(answer);
      });
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const session = http2Connect(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    closers.push(() => new Promise((resolve) => proxy.close(resolve)), () => session.close());
    const stream = session.request({ ':method': 'POST', ':path': '/', 'content-length': '5' });
    stream.end('hello');
    const [headers] = (await once(stream, 'response')) as [Record<string, unknown>];
    const body = Buffer.concat((await stream.toArray()) as Buffer[]).toString();
    assert.equal(headers[':status'], 200);
    assert.equal(body, 'got hello');
  });

  it('stops reading from the upstream while the response body is not consumed', async () => {
    const size = 64 << 20;
    let serverSocket: Socket | undefined;
    const server = await rawServer((socket) => {
      serverSocket = socket;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
      socket.write(Buffer.alloc(size));
    });
    const response = await transportTo(server.port).send(request());
    // Nobody reads the body: the upstream must stay blocked with most of it unsent.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok((serverSocket?.writableLength ?? 0) > size / 2, `the upstream could send ${size - (serverSocket?.writableLength ?? 0)} bytes to a reader that read none`);
    let received = 0;
    for await (const chunk of response.body ?? []) received += (chunk as Buffer).length;
    assert.equal(received, size);
  });

  it('stops reading the request body while the upstream does not take it', async () => {
    const size = 64 << 20;
    const piece = Buffer.alloc(64 << 10);
    let produced = 0;
    const { Readable } = await import('node:stream');
    const body = new Readable({
      read() {
        produced += piece.length;
        this.push(piece);
        if (produced >= size) this.push(null);
      },
    });
    // Accepts the connection and never reads from it.
    const sockets: Socket[] = [];
    const silent = createNetServer((socket) => {
      sockets.push(socket);
      socket.pause();
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    closers.push(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const caller = new AbortController();
    const sending = transportTo((silent.address() as AddressInfo).port).send(request({ method: 'PUT', headers: { 'content-length': String(size) }, body, signal: caller.signal }));
    await until(() => produced > 0, 'the body to start');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok(produced < size / 2, `${produced} of ${size} bytes were read from the body for an upstream that reads nothing`);
    caller.abort();
    await assert.rejects(sending);
  });

  it('lets requests in flight finish on close(), and cuts them on destroy()', async () => {
    let answer: ((body: string) => void) | undefined;
    const server = await rawServer((socket) => {
      answer = (body) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
    const transport = transportTo(server.port);
    const inFlight = transport.send(request());
    await until(() => answer !== undefined, 'the request to arrive');
    const closed = transport.close();
    answer?.('late but whole');
    assert.equal(await text(await inFlight), 'late but whole');
    await closed;
    await assert.rejects(transport.send(request()), assertProxyError(ProxyErrorKind.UPSTREAM_RESET));

    answer = undefined;
    const other = transportTo(server.port);
    const cut = other.send(request());
    await until(() => answer !== undefined, 'the second request to arrive');
    await other.destroy();
    await assert.rejects(cut, assertProxyError(ProxyErrorKind.UPSTREAM_RESET));
  });
});
