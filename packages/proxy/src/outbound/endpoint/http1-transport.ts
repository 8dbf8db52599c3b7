// HTTP/1.1 to one upstream address over raw sockets, plaintext or mTLS: a keep-alive pool
// (idle connections reused last-in first-out, so the fewest stay warm; one request at a time
// per connection, no pipelining). A connection goes back to the pool only when its response
// was read to the end, its request body sent to the end, and neither side said `close`.
import { connect as netConnect, type Socket } from 'node:net';
import { finished, Readable } from 'node:stream';
import { ProxyError, ProxyErrorKind } from '../../errors.ts';
import type { HeaderMap, ProxyRequest, ProxyResponse } from '../../http/handler.ts';
import { forwardableHeaders } from '../../http/headers.ts';
import { Http1ResponseParser, type ResponseHead } from './http1-response-parser.ts';
import { whenConnected } from './socket-connect.ts';
import { upstreamError } from './upstream-errors.ts';
import type { PoolSettings, Transport } from './upstream-pools.ts';

export interface Http1TransportOptions {
  /** "host:port", for messages. */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  readonly settings: PoolSettings;
  /** For mTLS: opens the TLS socket (ALPN http/1.1); absent for plaintext. */
  readonly connectTls?: () => Socket;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Bytes that would end a header line or the head early: the request-splitting vector. */
const LINE_BREAKING = /[\r\n\0]/;
const REQUEST_TARGET = /^[^\s\0]+$/;
/** Methods whose requests carry a body by definition: sent with `content-length: 0` when they have none. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
/** RFC 9110 §9.2.2: sending these twice has the effect of sending them once. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

type BodyFraming = { readonly kind: 'none' } | { readonly kind: 'length'; readonly length: number } | { readonly kind: 'chunked' };

interface RequestHead {
  readonly text: string;
  readonly framing: BodyFraming;
  /** The request asked for the connection to be closed after it. */
  readonly close: boolean;
}

function refuse(message: string): ProxyError {
  return new ProxyError(ProxyErrorKind.BAD_REQUEST, message);
}

/** The request line and headers, validated: nothing in them may end a line early. */
function requestHead(request: ProxyRequest, extraHeaders: HeaderMap | undefined): RequestHead {
  if (!TOKEN.test(request.method)) throw refuse(`invalid method for HTTP/1.1: ${JSON.stringify(request.method)}`);
  if (!REQUEST_TARGET.test(request.path)) throw refuse('invalid request target for HTTP/1.1');
  if (LINE_BREAKING.test(request.authority)) throw refuse('invalid authority for HTTP/1.1');
  const headers = extraHeaders ? { ...request.headers, ...extraHeaders } : request.headers;
  let text = `${request.method} ${request.path} HTTP/1.1\r\nhost: ${request.authority}\r\n`;
  let close = false;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || name === 'host' || name === 'content-length' || name === 'transfer-encoding') continue;
    if (!TOKEN.test(name)) throw refuse(`invalid header name: ${JSON.stringify(name)}`);
    for (const item of Array.isArray(value) ? value : [value]) {
      if (LINE_BREAKING.test(item)) throw refuse(`header ${name} has a line break or NUL in its value`);
      text += `${name}: ${item}\r\n`;
    }
    if (name === 'connection' && String(value).toLowerCase().includes('close')) close = true;
  }
  let framing: BodyFraming;
  const length = headers['content-length'];
  if (request.body === null) {
    framing = { kind: 'none' };
    if (BODY_METHODS.has(request.method)) text += 'content-length: 0\r\n';
  } else if (length !== undefined) {
    if (typeof length !== 'string' || !/^\d{1,15}$/.test(length)) throw refuse(`invalid content-length: ${JSON.stringify(length)}`);
    framing = { kind: 'length', length: Number(length) };
    text += `content-length: ${length}\r\n`;
  } else {
    framing = { kind: 'chunked' };
    text += 'transfer-encoding: chunked\r\n';
  }
  return { text: `${text}\r\n`, framing, close };
}

/**
 * A reused idle connection turned out to be closed by the upstream before any byte of the
 * response came back, and the request can be sent again on a new connection.
 */
class StaleConnection extends Error {}

/** One socket of the pool, and the exchange it is carrying (none while idle). */
class Connection {
  readonly socket: Socket;
  requests = 0;
  exchange: Exchange | undefined;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, onClose: (connection: Connection) => void) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      // Bytes on an idle connection answer nothing we asked: it cannot be trusted again.
      if (this.exchange) this.exchange.onData(chunk);
      else socket.destroy();
    });
    socket.on('end', () => this.exchange?.onEnd());
    socket.on('error', (error) => this.exchange?.fail(error));
    socket.on('close', () => {
      clearTimeout(this.idleTimer);
      this.exchange?.fail(Object.assign(new Error('upstream closed the connection'), { code: 'ECONNRESET' }));
      onClose(this);
    });
  }
}

/** One request and its response on one connection. */
class Exchange {
  private readonly transport: Http1Transport;
  private readonly connection: Connection;
  private readonly request: ProxyRequest;
  private readonly head: RequestHead;
  private readonly reused: boolean;
  private readonly resolve: (response: ProxyResponse) => void;
  private readonly reject: (error: Error) => void;
  private readonly parser: Http1ResponseParser;
  private body: Readable | undefined;
  private settleTrailers: (trailers: HeaderMap | undefined) => void = () => undefined;
  private headSeen = false;
  private bodyStarted = false;
  private requestSent = false;
  private responseDone = false;
  private over = false;
  private stopBody: (() => void) | undefined;
  private readonly onAbort = (): void => this.fail(new Error('request aborted'));

  constructor(transport: Http1Transport, connection: Connection, request: ProxyRequest, head: RequestHead, reused: boolean, settle: { resolve: (response: ProxyResponse) => void; reject: (error: Error) => void }) {
    this.transport = transport;
    this.connection = connection;
    this.request = request;
    this.head = head;
    this.reused = reused;
    this.resolve = settle.resolve;
    this.reject = settle.reject;
    this.parser = new Http1ResponseParser(request.method === 'HEAD', {
      head: (responseHead, hasBody) => this.onHead(responseHead, hasBody),
      data: (chunk) => this.onBodyData(chunk),
      end: (trailers) => this.onResponseEnd(trailers),
    });
  }

  start(): void {
    const { socket } = this.connection;
    this.connection.exchange = this;
    this.connection.requests++;
    this.request.signal.addEventListener('abort', this.onAbort, { once: true });
    if (this.head.framing.kind === 'none') {
      socket.write(this.head.text, 'latin1');
      this.requestSent = true;
    } else {
      this.sendBody(this.request.body as Readable, this.head.framing);
    }
  }

  /**
   * Streams the request body with backpressure. The head goes with the first body bytes (in
   * one packet): a body that fails before its first byte (a caller's malformed chunked
   * encoding) leaves nothing at the upstream. The body is never destroyed here: an HTTP/2
   * stream is both the request body and the way back for the response.
   */
  private sendBody(body: Readable, framing: BodyFraming): void {
    const { socket } = this.connection;
    let sent = 0;
    let headPending = true;
    const writeHead = (): void => {
      if (!headPending) return;
      headPending = false;
      socket.write(this.head.text, 'latin1');
    };
    const onDrain = (): void => {
      body.resume();
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (bytes.length === 0) return;
      this.bodyStarted = true;
      sent += bytes.length;
      if (framing.kind === 'length' && sent > framing.length) return this.fail(refuse(`request body longer than its content-length ${framing.length}`));
      let writable: boolean;
      socket.cork();
      writeHead();
      if (framing.kind === 'length') {
        writable = socket.write(bytes);
      } else {
        socket.write(`${bytes.length.toString(16)}\r\n`);
        socket.write(bytes);
        writable = socket.write('\r\n');
      }
      socket.uncork();
      if (!writable) {
        body.pause();
        socket.once('drain', onDrain);
      }
    };
    body.on('data', onData);
    const cleanup = finished(body, { writable: false }, (error) => {
      this.stopBody?.();
      if (this.over) return;
      if (error) return this.fail(error);
      if (framing.kind === 'length' && sent !== framing.length) return this.fail(refuse(`request body shorter (${sent} bytes) than its content-length ${framing.length}`));
      writeHead();
      if (framing.kind === 'chunked') socket.write('0\r\n\r\n');
      this.requestSent = true;
      this.releaseIfDone();
    });
    this.stopBody = () => {
      this.stopBody = undefined;
      body.off('data', onData);
      socket.off('drain', onDrain);
      cleanup();
    };
  }

  onData(chunk: Buffer): void {
    try {
      this.parser.execute(chunk);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /** The upstream finished sending: the end of a body delimited by the close, or a truncated response. */
  onEnd(): void {
    try {
      this.parser.finish();
    } catch (error) {
      this.fail(error as Error);
    }
  }

  private onHead(head: ResponseHead, hasBody: boolean): void {
    this.headSeen = true;
    const headers = forwardableHeaders(head.headers);
    if (!hasBody) {
      this.resolve({ status: head.status, headers, body: null });
      return;
    }
    const { socket } = this.connection;
    this.body = new Readable({
      // The consumer wants more: let the socket flow again (if it still carries this response).
      read: () => {
        if (this.connection.exchange === this) socket.resume();
      },
      destroy: (error, callback) => {
        // The consumer left before the end: the rest of the response would arrive on a connection nobody reads.
        if (!this.responseDone) this.fail(new Error('response body abandoned'));
        callback(error);
      },
    });
    const trailers = new Promise<HeaderMap | undefined>((settle) => {
      this.settleTrailers = settle;
    });
    this.resolve({ status: head.status, headers, body: this.body, trailers: () => trailers });
  }

  private onBodyData(chunk: Buffer): void {
    if (this.body && !this.body.push(chunk)) this.connection.socket.pause();
  }

  private onResponseEnd(trailers: HeaderMap | undefined): void {
    this.responseDone = true;
    this.settleTrailers(trailers && forwardableHeaders(trailers));
    this.body?.push(null);
    this.releaseIfDone();
  }

  private releaseIfDone(): void {
    if (this.over || !this.responseDone || !this.requestSent) return;
    this.finish();
    this.transport.release(this.connection, this.parser.reusable && !this.head.close);
  }

  /** Cuts the exchange: the connection is destroyed, the caller learns why. */
  fail(error: Error): void {
    if (this.over) return;
    this.finish();
    this.connection.socket.destroy();
    const { signal } = this.request;
    if (!this.headSeen) {
      const resendable = this.reused && this.parser.received === 0 && !this.bodyStarted && !signal.aborted && IDEMPOTENT_METHODS.has(this.request.method);
      this.reject(resendable ? new StaleConnection('idle connection closed by the upstream', { cause: error }) : upstreamError(error, signal, this.transport.address));
      return;
    }
    this.settleTrailers(undefined);
    // A response already read to the end stays whole for its consumer.
    if (!this.responseDone) this.body?.destroy(upstreamError(error, signal, this.transport.address));
  }

  private finish(): void {
    this.over = true;
    this.request.signal.removeEventListener('abort', this.onAbort);
    this.stopBody?.();
    if (this.connection.exchange === this) this.connection.exchange = undefined;
  }
}

export class Http1Transport implements Transport {
  readonly address: string;
  private readonly options: Http1TransportOptions;
  /** Every open connection, idle or busy. */
  private readonly connections = new Set<Connection>();
  /** Idle connections; the last one released is the first one reused. */
  private readonly idle: Connection[] = [];
  private closing = false;
  private closed: (() => void) | undefined;

  constructor(options: Http1TransportOptions) {
    this.options = options;
    this.address = options.address;
  }

  async send(request: ProxyRequest, extraHeaders?: HeaderMap): Promise<ProxyResponse> {
    const head = requestHead(request, extraHeaders);
    if (this.closing) throw new ProxyError(ProxyErrorKind.UPSTREAM_RESET, `the pool to ${this.address} is closed`);
    if (request.signal.aborted) throw upstreamError(new Error('request aborted'), request.signal, this.address);
    const idle = this.takeIdle();
    if (idle) {
      try {
        return await this.exchange(idle, request, head, true);
      } catch (error) {
        // The keep-alive race: the upstream closed the idle connection as we reused it. Only
        // requests that cannot have been processed twice go again (RFC 9112 §9.3.1), once, on
        // a new connection: idempotent methods, no response byte seen, no body byte consumed.
        if (!(error instanceof StaleConnection)) throw error;
      }
    }
    let connection: Connection;
    try {
      connection = await this.connect(request.signal);
    } catch (error) {
      throw upstreamError(error, request.signal, this.address);
    }
    return this.exchange(connection, request, head, false);
  }

  private exchange(connection: Connection, request: ProxyRequest, head: RequestHead, reused: boolean): Promise<ProxyResponse> {
    return new Promise((resolve, reject) => new Exchange(this, connection, request, head, reused, { resolve, reject }).start());
  }

  private takeIdle(): Connection | undefined {
    for (let connection = this.idle.pop(); connection; connection = this.idle.pop()) {
      clearTimeout(connection.idleTimer);
      if (connection.socket.destroyed || !connection.socket.writable) continue;
      connection.socket.ref();
      return connection;
    }
    return undefined;
  }

  private async connect(signal: AbortSignal): Promise<Connection> {
    const { host, port, connectTls, settings } = this.options;
    const socket = connectTls ? connectTls() : netConnect({ host, port, noDelay: true });
    const connection = new Connection(socket, (closed) => this.forget(closed));
    this.connections.add(connection);
    await whenConnected(socket, { secure: connectTls !== undefined, timeoutMs: settings.connectTimeoutMs, address: this.address, signal });
    return connection;
  }

  /** Back to the pool after a complete exchange, or closed when it cannot carry another. */
  release(connection: Connection, reusable: boolean): void {
    const { maxRequestsPerConnection, idleTimeoutMs } = this.options.settings;
    const { socket } = connection;
    if (!reusable || this.closing || socket.destroyed || (maxRequestsPerConnection !== undefined && connection.requests >= maxRequestsPerConnection)) {
      socket.destroy();
      return;
    }
    // Flowing while idle, so a close or stray bytes from the upstream are noticed; idle sockets never keep the process alive.
    socket.resume();
    socket.unref();
    connection.idleTimer = setTimeout(() => socket.destroy(), idleTimeoutMs).unref();
    this.idle.push(connection);
  }

  private forget(connection: Connection): void {
    this.connections.delete(connection);
    const at = this.idle.indexOf(connection);
    if (at !== -1) this.idle.splice(at, 1);
    if (this.closing && this.connections.size === 0) this.closed?.();
  }

  close(): Promise<void> {
    this.closing = true;
    const done = new Promise<void>((resolve) => {
      this.closed = resolve;
    });
    for (const connection of this.idle.splice(0)) connection.socket.destroy();
    if (this.connections.size === 0) this.closed?.();
    return done;
  }

  destroy(): Promise<void> {
    const done = this.close();
    for (const connection of this.connections) connection.socket.destroy();
    return done;
  }
}
