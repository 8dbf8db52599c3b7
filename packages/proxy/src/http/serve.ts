// Adapts node:http to the proxy's handler shape: builds a ProxyRequest from each incoming
// request, runs the handler, streams the response back, and turns ProxyErrors into responses
// — the one place where errors become status codes and response flags.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from '@weft/runtime';
import { ProxyError, ProxyErrorKind, RESPONSE_FLAGS_HEADER } from '../errors.ts';
import type { Socket } from 'node:net';
import { newContext, PLAINTEXT, type ConnectionSecurity, type Handler, type ProxyRequest, type RequestContext } from './handler.ts';
import { forwardableHeaders } from './headers.ts';

export interface Completion {
  readonly context: RequestContext;
  readonly status: number;
  /** Envoy-style response flag, "" when the upstream answered. */
  readonly flag: string;
  readonly durationSeconds: number;
}

export interface ServeOptions {
  readonly direction: RequestContext['direction'];
  readonly handler: Handler;
  readonly log: Logger;
  readonly onComplete?: (completion: Completion) => void;
  /** How a connection was secured (the inbound listener knows); plaintext when absent. */
  readonly securityOf?: (socket: Socket) => ConnectionSecurity;
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Origin-form path and authority, also from an absolute-form target (HTTP proxy style). */
function target(request: IncomingMessage): { path: string; authority: string } {
  const url = request.url ?? '/';
  if (url.startsWith('/')) return { path: url, authority: request.headers.host ?? '' };
  try {
    const parsed = new URL(url);
    return { path: `${parsed.pathname}${parsed.search}`, authority: parsed.host };
  } catch {
    return { path: url, authority: request.headers.host ?? '' };
  }
}

/**
 * Streams an upstream body to the caller with back-pressure. Readable.pipe plus the two
 * cleanups it lacks — cheaper per response than stream.pipeline, which builds an
 * AbortController (and an AbortError with a stack trace) for every call.
 */
function streamBody(body: Readable, outgoing: ServerResponse, log: Logger): void {
  body.once('error', (error) => {
    log.debug({ err: error }, 'upstream response cut');
    outgoing.destroy();
  });
  outgoing.once('close', () => {
    if (!body.readableEnded) body.destroy();
  });
  body.pipe(outgoing);
}

function writeError(outgoing: ServerResponse, error: ProxyError): void {
  const message = `weft: ${error.message}\n`;
  outgoing.writeHead(error.kind.status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(message)),
    [RESPONSE_FLAGS_HEADER]: error.kind.flag,
  });
  outgoing.end(message);
}

export function createProxyServer(options: ServeOptions): Server {
  const { direction, handler, log, onComplete } = options;
  return createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const context = newContext(direction);
    const callerGone = new AbortController();
    let flag = '';
    outgoing.once('close', () => {
      if (!outgoing.writableFinished) callerGone.abort(new ProxyError(ProxyErrorKind.DOWNSTREAM_GONE, 'caller went away'));
      const answered = flag || context.flag || '';
      onComplete?.({ context, status: outgoing.statusCode, flag: outgoing.writableFinished ? answered : answered || 'DC', durationSeconds: Number(process.hrtime.bigint() - context.startedAt) / 1e9 });
    });
    const { path, authority } = target(incoming);
    const request: ProxyRequest = {
      method: incoming.method ?? 'GET',
      path,
      authority: authority.toLowerCase(),
      headers: forwardableHeaders(incoming.headers),
      body: hasBody(incoming) ? incoming : null,
      signal: callerGone.signal,
      security: options.securityOf?.(incoming.socket) ?? PLAINTEXT,
      remoteAddress: incoming.socket.remoteAddress ?? '',
    };
    handler(request, context).then(
      (response) => {
        if (callerGone.signal.aborted) {
          response.body?.destroy();
          return;
        }
        outgoing.writeHead(response.status, response.headers as Record<string, string | string[]>);
        if (response.body) streamBody(response.body, outgoing, log);
        else outgoing.end();
      },
      (error: unknown) => {
        const proxyError = error instanceof ProxyError ? error : new ProxyError(ProxyErrorKind.UPSTREAM_RESET, 'internal error');
        if (!(error instanceof ProxyError)) log.error({ err: error }, 'unexpected error in request handling');
        flag = proxyError.kind.flag;
        if (callerGone.signal.aborted || outgoing.headersSent) {
          outgoing.destroy();
          return;
        }
        writeError(outgoing, proxyError);
        // An unread request body would otherwise hold the connection.
        if (!incoming.complete) incoming.resume();
      },
    );
  });
}
