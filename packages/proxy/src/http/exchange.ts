// One request/response exchange, whatever the protocol on either side: runs the handler,
// streams the response (and its trailers) back through a ResponseSink, and turns ProxyErrors
// into responses — the one place where errors become status codes and response flags. A gRPC
// caller gets a gRPC status (trailers-only response) instead of an HTTP error page.
import type { Readable } from 'node:stream';
import type { Logger } from '@weft/runtime';
import { ProxyError, ProxyErrorKind, RESPONSE_FLAGS_HEADER } from '../errors.ts';
import type { Handler, HeaderMap, ProxyRequest, ProxyResponse, RequestContext } from './handler.ts';
import type { InFlight } from './in-flight.ts';

export interface Completion {
  readonly context: RequestContext;
  readonly status: number;
  /** Envoy-style response flag, "" when the upstream answered. */
  readonly flag: string;
  readonly durationSeconds: number;
}

/** Where a response goes: an HTTP/1.1 ServerResponse or an HTTP/2 stream. */
export interface ResponseSink {
  readonly headersSent: boolean;
  readonly finished: boolean;
  readonly status: number;
  /** Sends status and headers; `trailers` says whether trailers will follow the body. */
  respond(status: number, headers: HeaderMap, options: { trailers: boolean; endStream: boolean }): void;
  /** Streams `body` with back-pressure, then ends with `trailers()` (when respond() announced them). */
  stream(body: Readable, trailers: () => Promise<HeaderMap | undefined>): void;
  /** A whole small body. */
  end(body: Buffer | undefined): void;
  destroy(): void;
  onClose(listener: () => void): void;
}

export interface ExchangeOptions {
  readonly handler: Handler;
  readonly log: Logger;
  readonly onComplete?: (completion: Completion) => void;
  /** Counts each exchange from its start until its response is done (a drain waits for them). */
  readonly inFlight?: InFlight;
}

const NO_TRAILERS = (): Promise<undefined> => Promise.resolve(undefined);

function headerValue(headers: HeaderMap | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Counts a body's bytes without taking it over: 'data' is emitted to every reader, and
 * prependListener (unlike on) does not switch the stream to flowing mode, so whoever reads the
 * body later still gets every chunk.
 */
function countBytes(body: Readable, add: (bytes: number) => void): void {
  body.prependListener('data', (chunk: Buffer | string) => add(chunk.length));
}

/** HTTP status of a proxy error -> the gRPC status a gRPC caller understands. */
const GRPC_STATUS_BY_HTTP: Record<number, number> = { 400: 13, 403: 7, 404: 12, 431: 8, 499: 1, 503: 14, 504: 4 };

export function isGrpc(headers: HeaderMap): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.startsWith('application/grpc');
}

function errorReply(request: ProxyRequest, error: ProxyError): { status: number; headers: HeaderMap; body: Buffer | undefined } {
  const flags = { [RESPONSE_FLAGS_HEADER]: error.kind.flag };
  if (isGrpc(request.headers)) {
    const grpcStatus = GRPC_STATUS_BY_HTTP[error.kind.status] ?? 14;
    return { status: 200, headers: { 'content-type': 'application/grpc', 'grpc-status': String(grpcStatus), 'grpc-message': encodeURIComponent(`weft: ${error.message}`), ...flags }, body: undefined };
  }
  const body = Buffer.from(`weft: ${error.message}\n`);
  return { status: error.kind.status, headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length), ...flags }, body };
}

export function runExchange(options: ExchangeOptions, request: ProxyRequest, context: RequestContext, sink: ResponseSink, callerGone: AbortController): void {
  const { handler, log, onComplete } = options;
  let flag = '';
  if (request.body) countBytes(request.body, (bytes) => (context.requestBytes += bytes));
  const settle = options.inFlight?.begin();
  sink.onClose(() => {
    settle?.();
    if (!sink.finished) callerGone.abort(new ProxyError(ProxyErrorKind.DOWNSTREAM_GONE, 'caller went away'));
    const answered = flag || context.flag || '';
    onComplete?.({ context, status: sink.status, flag: sink.finished ? answered : answered || 'DC', durationSeconds: Number(process.hrtime.bigint() - context.startedAt) / 1e9 });
  });
  handler(request, context).then(
    (response: ProxyResponse) => {
      if (callerGone.signal.aborted) {
        response.body?.destroy();
        return;
      }
      const trailers = response.trailers !== undefined;
      context.grpcStatus = headerValue(response.headers, 'grpc-status');
      sink.respond(response.status, response.headers, { trailers, endStream: !response.body && !trailers });
      if (response.body) {
        countBytes(response.body, (bytes) => (context.responseBytes += bytes));
        const upstreamTrailers = response.trailers ?? NO_TRAILERS;
        sink.stream(response.body, () =>
          upstreamTrailers().then((last) => {
            context.grpcStatus = headerValue(last, 'grpc-status') ?? context.grpcStatus;
            return last;
          }),
        );
      } else sink.end(undefined);
    },
    (error: unknown) => {
      const proxyError = error instanceof ProxyError ? error : new ProxyError(ProxyErrorKind.UPSTREAM_RESET, 'internal error');
      if (!(error instanceof ProxyError)) log.error({ err: error }, 'unexpected error in request handling');
      flag = proxyError.kind.flag;
      if (callerGone.signal.aborted || sink.headersSent) {
        sink.destroy();
        return;
      }
      const reply = errorReply(request, proxyError);
      context.grpcStatus = headerValue(reply.headers, 'grpc-status');
      sink.respond(reply.status, reply.headers, { trailers: false, endStream: reply.body === undefined });
      sink.end(reply.body);
      // An unread request body would otherwise hold the connection.
      request.body?.resume();
    },
  );
}
