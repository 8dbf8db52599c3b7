// HTTP/1.1 to the proxy's handler shape: a ProxyRequest from each request, the response written
// back by the exchange (chunked trailers when the upstream sent some).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Logger } from '@weft/runtime';
import { runExchange, type ExchangeOptions, type ResponseSink } from './exchange.ts';
import { newContext, PLAINTEXT, type ConnectionInfo, type HeaderMap, type ProxyRequest, type RequestContext } from './handler.ts';
import { forwardableHeaders } from './headers.ts';

export interface ServeOptions extends ExchangeOptions {
  readonly direction: RequestContext['direction'];
  /** How a connection was secured (the inbound listener knows); plaintext when absent. */
  readonly connectionOf?: (socket: Socket) => ConnectionInfo;
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
  return createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const callerGone = new AbortController();
    const { path, authority } = requestTarget(incoming.url ?? '/', incoming.headers.host);
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
    runExchange(options, request, newContext(options.direction), http1Sink(outgoing, options.log), callerGone);
  });
}
