// Requests over one multiplexed HTTP/2 connection to an upstream: the hop between sidecars
// (over mTLS, ALPN h2) and the hop to gRPC/HTTP2 applications (h2c). A session that closes,
// fails or receives GOAWAY is replaced by the next request; streams in flight finish on it.
import { connect as http2Connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { peerIdentity } from '@weft/ca';
import { ProxyError, ProxyErrorKind } from '../../errors.ts';
import type { HeaderMap, ProxyRequest, ProxyResponse } from '../../http/handler.ts';
import { forwardableHeaders } from '../../http/headers.ts';
import { CONNECT_TIMEOUT_CODE } from './socket-connect.ts';
import { RefusedStreamError, upstreamError } from './upstream-errors.ts';

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_AUTHORITY, HTTP2_HEADER_SCHEME, HTTP2_HEADER_STATUS } = constants;

export interface Http2TransportOptions {
  /** "host:port" for messages. */
  readonly address: string;
  /** For mTLS: opens the TLS socket (ALPN h2); absent for h2c. */
  readonly connectTls?: () => Duplex;
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
}

function responseHeaders(headers: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = {};
  for (const name in headers) if (!name.startsWith(':')) out[name] = headers[name];
  return forwardableHeaders(out);
}

/** The SPIFFE ID each mTLS session's server proved, read once per session. */
const peerBySession = new WeakMap<ClientHttp2Session, string>();

export class Http2Transport {
  private readonly options: Http2TransportOptions;
  private session: ClientHttp2Session | undefined;

  constructor(options: Http2TransportOptions) {
    this.options = options;
  }

  private currentSession(): ClientHttp2Session {
    const existing = this.session;
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const { connectTls, host, port, connectTimeoutMs, idleTimeoutMs } = this.options;
    const session = http2Connect(`${connectTls ? 'https' : 'http'}://${host}:${port}`, {
      ...(connectTls ? { createConnection: connectTls } : {}),
      settings: { enablePush: false },
    });
    const connectTimer = setTimeout(() => session.destroy(Object.assign(new Error(`connect to ${this.options.address} timed out after ${connectTimeoutMs}ms`), { code: CONNECT_TIMEOUT_CODE })), connectTimeoutMs);
    session.once('connect', () => {
      clearTimeout(connectTimer);
      const peer = connectTls && peerIdentity((session.socket as TLSSocket).getPeerCertificate())?.spiffeId;
      if (peer) peerBySession.set(session, peer);
    });
    session.once('close', () => {
      clearTimeout(connectTimer);
      if (this.session === session) this.session = undefined;
    });
    session.once('goaway', () => {
      if (this.session === session) this.session = undefined;
    });
    // Errors reach the streams; the session itself only needs to be dropped.
    session.on('error', () => undefined);
    session.setTimeout(idleTimeoutMs, () => session.close());
    this.session = session;
    return session;
  }

  send(request: ProxyRequest, extraHeaders?: HeaderMap): Promise<ProxyResponse> {
    const { address } = this.options;
    return new Promise<ProxyResponse>((resolve, reject) => {
      let stream: ClientHttp2Stream;
      let session: ClientHttp2Session;
      try {
        session = this.currentSession();
        stream = session.request(
          {
            ...forwardableHeaders({ ...request.headers, ...extraHeaders }),
            [HTTP2_HEADER_METHOD]: request.method,
            [HTTP2_HEADER_PATH]: request.path,
            [HTTP2_HEADER_AUTHORITY]: request.authority,
            [HTTP2_HEADER_SCHEME]: this.options.connectTls ? 'https' : 'http',
          },
          { endStream: request.body === null, signal: request.signal },
        );
      } catch (error) {
        reject(upstreamError(error, request.signal, address));
        return;
      }
      // Settles on the trailers, or on close without them: Node may report trailers a tick after the body ended.
      const trailers = new Promise<HeaderMap | undefined>((settle) => {
        stream.once('trailers', (headers: IncomingHttpHeaders) => settle(responseHeaders(headers)));
        stream.once('close', () => settle(undefined));
      });
      stream.once('response', (headers: IncomingHttpHeaders, flags: number) => {
        stream.off('error', onError);
        stream.on('error', () => undefined);
        const status = Number(headers[HTTP2_HEADER_STATUS]);
        const upstreamPeer = peerBySession.get(session);
        // A response that ends with its headers (gRPC "trailers-only") has neither body nor
        // trailers: passed on as it came, it keeps its status in the headers.
        // (`stream.endAfterHeaders` is not yet set when 'response' fires; the frame's flags are.)
        if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
          stream.resume();
          resolve({ status, headers: responseHeaders(headers), body: null, upstreamPeer });
          return;
        }
        resolve({ status, headers: responseHeaders(headers), body: stream, trailers: () => trailers, upstreamPeer });
      });
      const onError = (error: Error): void => reject(upstreamError(error, request.signal, address));
      stream.once('error', onError);
      stream.once('close', () => {
        const code = stream.rstCode;
        if (!code || code === constants.NGHTTP2_NO_ERROR) return;
        const error =
          code === constants.NGHTTP2_REFUSED_STREAM
            ? new RefusedStreamError(ProxyErrorKind.UPSTREAM_CONNECT_FAILURE, `${address} refused the stream`)
            : new ProxyError(ProxyErrorKind.UPSTREAM_RESET, `${address} reset the stream (code ${code})`);
        reject(upstreamError(error, request.signal, address));
      });
      if (request.body) request.body.pipe(stream);
    });
  }

  close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session || session.closed) return Promise.resolve();
    return new Promise((resolve) => session.close(() => resolve()));
  }

  destroy(): Promise<void> {
    this.session?.destroy();
    this.session = undefined;
    return Promise.resolve();
  }
}
