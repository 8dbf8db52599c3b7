// HTTP/1.1 to the proxy's handler shape: a ProxyRequest from each request, the response written
// back by the exchange (chunked trailers when the upstream sent some).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Logger } from '@weft/runtime';
import type { ProxyError } from '../errors.ts';
import { runExchange, type ExchangeOptions, type ResponseSink } from './exchange.ts';
import { newContext, PLAINTEXT, type ConnectionInfo, type HeaderMap, type ProxyRequest, type RequestContext } from './handler.ts';
import { forwardableHeaders } from './headers.ts';
import { countFields, http1ServerOptions, maxRequestHeaders, refusalOf, type HttpLimits } from './request-limits.ts';

export interface ServeOptions extends ExchangeOptions {
  readonly direction: RequestContext['direction'];
  /** How a connection was secured (the inbound listener knows); plaintext when absent. */
  readonly connectionOf?: (socket: Socket) => ConnectionInfo;
  readonly limits: HttpLimits;
}

/** The exchange for a request refused before handling: `error` becomes the response, as any other. */
export function refusing(options: ServeOptions, error: ProxyError | undefined): ServeOptions {
  return error ? { ...options, handler: () => Promise.reject(error) } : options;
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Origin-form path and authority, also from an absolute-form target (HTTP proxy style). */
export function requestTarget(url: string, host: string | undefined): { path: string; authority: string } {
  if (url.startsWith('/')) return { path: url, authority: host ?? '' };
  try {
    const parsed = new URL(url);
    return { path: `${parsed.pathname}${parsed.search}`, authority: parsed.host };
  } catch {
    return { path: url, authority: host ?? '' };
  }
}

function http1Sink(outgoing: ServerResponse, log: Logger): ResponseSink {
  return {
    get headersSent() {
      return outgoing.headersSent;
    },
    get finished() {
      return outgoing.writableFinished;
    },
    get status() {
      return outgoing.statusCode;
    },
    respond(status, headers, { trailers }) {
      const out = { ...headers } as Record<string, string | string[]>;
      // HTTP/1.1 carries trailers only in chunked bodies, which Node uses without a length.
      if (trailers) delete out['content-length'];
      outgoing.writeHead(status, out);
    },
    stream(body: Readable, trailers: () => Promise<HeaderMap | undefined>) {
      body.once('error', (error) => {
        log.debug({ err: error }, 'upstream response cut');
        outgoing.destroy();
      });
      outgoing.once('close', () => {
        if (!body.readableEnded) body.destroy();
      });
      // Ended by hand: trailers go after the last chunk, before the end.
      body.once('end', () => {
        void trailers().then((last) => {
          if (last && Object.keys(last).length > 0) outgoing.addTrailers(last);
          outgoing.end();
        });
      });
      body.pipe(outgoing, { end: false });
    },
    end(body) {
      outgoing.end(body);
    },
    destroy() {
      outgoing.destroy();
    },
    onClose(listener) {
      outgoing.once('close', listener);
    },
  };
}

export function createHttp1Server(options: ServeOptions): Server {
  const server = createServer(http1ServerOptions(options.limits), (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const callerGone = new AbortController();
    const { path, authority } = requestTarget(incoming.url ?? '/', incoming.headers.host);
    // Node keeps only the first Host in `headers`; the raw list shows them all.
    const hostFields = countFields(incoming.rawHeaders, (name) => name.toLowerCase() === 'host');
    const refusal = refusalOf({ authority, headerCount: incoming.rawHeaders.length / 2, hostFields }, options.direction);
    const request: ProxyRequest = {
      method: incoming.method ?? 'GET',
      path,
      authority: authority.toLowerCase(),
      headers: forwardableHeaders(incoming.headers),
      body: hasBody(incoming) ? incoming : null,
      signal: callerGone.signal,
      connection: options.connectionOf?.(incoming.socket) ?? PLAINTEXT,
      remoteAddress: incoming.socket.remoteAddress ?? '',
      httpVersion: incoming.httpVersion,
    };
    runExchange(refusing(options, refusal), request, newContext(options.direction), http1Sink(outgoing, options.log), callerGone);
  });
  // One more than allowed, so that a request over the limit is seen (Node drops the excess silently).
  server.maxHeadersCount = maxRequestHeaders(options.direction) + 1;
  trackConnections(server);
  return server;
}

/**
 * Node tracks connections (and so enforces headersTimeout) from the server's 'listening' event.
 * These servers never listen: the listeners hand them sockets. Without this, a caller trickling
 * its headers would hold a connection forever.
 */
function trackConnections(server: Server): void {
  server.emit('listening');
}
