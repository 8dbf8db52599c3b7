// HTTP/2 to the proxy's handler shape: each stream becomes a ProxyRequest (pseudo-headers
// mapped), and the response goes back on the stream, trailers included (gRPC status lives
// there). The server is plaintext (h2c); TLS connections are handed to it already decrypted.
import { constants, createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Readable } from 'node:stream';
import { runExchange, type ResponseSink } from './exchange.ts';
import { newContext, PLAINTEXT, type HeaderMap, type ProxyRequest } from './handler.ts';
import { forwardableHeaders } from './headers.ts';
import { countFields, http2ServerOptions, refusalOf } from './request-limits.ts';
import { refusing, type ServeOptions } from './serve-http1.ts';

const { HTTP2_HEADER_METHOD, HTTP2_HEADER_PATH, HTTP2_HEADER_AUTHORITY, HTTP2_HEADER_STATUS, NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM } = constants;

/** Request headers without pseudo-headers and hop-by-hop ones. */
function plainHeaders(headers: IncomingHttpHeaders): HeaderMap {
  const out: HeaderMap = {};
  for (const name in headers) if (!name.startsWith(':')) out[name] = headers[name];
  return forwardableHeaders(out);
}

function http2Sink(stream: ServerHttp2Stream): ResponseSink {
  let status = 0;
  let endedWithHeaders = false;
  let pendingTrailers: () => Promise<HeaderMap | undefined> = () => Promise.resolve(undefined);
  return {
    get headersSent() {
      return stream.headersSent;
    },
    get finished() {
      // Read when the stream closes: a clean close means the whole response went out.
      return stream.rstCode === constants.NGHTTP2_NO_ERROR;
    },
    get status() {
      return status;
    },
    respond(code, headers, { trailers, endStream }) {
      status = code;
      endedWithHeaders = endStream;
      if (stream.destroyed) return;
      stream.respond({ ...forwardableHeaders(headers), [HTTP2_HEADER_STATUS]: code }, { endStream, waitForTrailers: trailers });
      if (trailers) {
        stream.once('wantTrailers', () => {
          void pendingTrailers().then((last) => {
            if (!stream.destroyed) stream.sendTrailers(forwardableHeaders(last ?? {}));
          });
        });
      }
    },
    stream(body: Readable, trailers) {
      pendingTrailers = trailers;
      body.once('error', () => stream.close(NGHTTP2_CANCEL));
      stream.once('close', () => {
        if (!body.readableEnded) body.destroy();
      });
      body.pipe(stream);
    },
    end(body) {
      // After a response sent with endStream there is nothing left to end.
      if (!stream.destroyed && !stream.writableEnded && !endedWithHeaders) stream.end(body);
    },
    destroy() {
      stream.close(NGHTTP2_CANCEL);
    },
    onClose(listener) {
      stream.once('close', listener);
    },
  };
}

export function createHttp2Server(options: ServeOptions): Http2Server {
  const server = createServer(http2ServerOptions(options.limits));
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => {
    const callerGone = new AbortController();
    const socket = stream.session?.socket;
    const authority = String(headers[HTTP2_HEADER_AUTHORITY] ?? headers.host ?? '');
    const refusal = refusalOf({ authority, headerCount: countFields(rawHeaders, (name) => !name.startsWith(':')), hostFields: 0 }, options.direction);
    const request: ProxyRequest = {
      method: String(headers[HTTP2_HEADER_METHOD] ?? 'GET'),
      path: String(headers[HTTP2_HEADER_PATH] ?? '/'),
      authority: authority.toLowerCase(),
      headers: plainHeaders(headers),
      // HTTP/2 says when a request has no body: the stream ends with the headers.
      body: flags & NGHTTP2_FLAG_END_STREAM ? null : stream,
      signal: callerGone.signal,
      connection: (socket && options.connectionOf?.(socket)) ?? PLAINTEXT,
      remoteAddress: socket?.remoteAddress ?? '',
      httpVersion: '2',
    };
    runExchange(refusing(options, refusal), request, newContext(options.direction), http2Sink(stream), callerGone);
  });
  // Sessions that break are the peer's business; keep the process alive.
  server.on('sessionError', () => undefined);
  return server;
}
