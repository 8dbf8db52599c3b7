// Outbound tunnels, which the HTTP layers do not touch: an HTTP/1.1 Upgrade (WebSocket) is
// routed like a request, then its bytes flow both ways to one endpoint; an HTTP CONNECT to a
// service host:port opens an opaque TCP stream to one endpoint (how an application reaches a
// TCP service through its sidecar when traffic is not captured), and so does a captured
// connection to a TCP service's virtual IP. To a peer sidecar all of them go over
// mTLS: an Upgrade with ALPN http/1.1 and weft-target-port, TCP with ALPN weft-tcp and a first
// line naming the application port (tcp-preface.ts).
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { OriginalDestination } from '@weft/original-dst';
import type { Duplex } from 'node:stream';
import type { Logger } from '@weft/runtime';
import { ProxyError, ProxyErrorKind } from '../errors.ts';
import { newContext, PLAINTEXT, type ConnectionInfo, type ProxyRequest, type RequestContext } from '../http/handler.ts';
import { forwardableHeaders } from '../http/headers.ts';
import { refuseTunnel, requestHead, splice } from '../http/raw-http.ts';
import { requestTarget } from '../http/serve-http1.ts';
import type { ClusterManager } from './concrete/cluster-manager.ts';
import { TARGET_PORT_HEADER } from './concrete/upstream-cluster.ts';
import { tcpPreface } from '../http/tcp-preface.ts';
import type { RouteTable } from './logical/route-table.ts';
import type { TcpStreamObserver } from '../metrics/tcp-stream-observer.ts';

/** Headers only the hop to this proxy may carry. */
const PROXY_ONLY = new Set(['proxy-connection', 'proxy-authorization', TARGET_PORT_HEADER]);

export interface TunnelOptions {
  readonly routes: RouteTable;
  readonly clusters: ClusterManager;
  readonly log: Logger;
  readonly onComplete?: (context: RequestContext, status: number, flag: string) => void;
  readonly streams?: TcpStreamObserver;
}

function tunnelRequest(incoming: IncomingMessage, authority: string, path: string, signal: AbortSignal): ProxyRequest {
  return {
    method: incoming.method ?? 'GET',
    path,
    authority: authority.toLowerCase(),
    headers: forwardableHeaders(incoming.headers),
    body: null,
    signal,
    connection: PLAINTEXT,
    remoteAddress: incoming.socket.remoteAddress ?? '',
  };
}

async function open(options: TunnelOptions, request: ProxyRequest, context: RequestContext, alpn: 'http/1.1' | 'weft-tcp') {
  const route = await options.routes.resolve(request, context);
  context.clusterName = route.chooseCluster();
  const cluster = options.clusters.cluster(context.clusterName);
  if (!cluster) throw new ProxyError(ProxyErrorKind.NO_CLUSTER, `no cluster ${context.clusterName}`);
  return cluster.openTunnel(request, context, alpn);
}

function fail(options: TunnelOptions, socket: Duplex, context: RequestContext, error: unknown): void {
  const proxyError = error instanceof ProxyError ? error : new ProxyError(ProxyErrorKind.UPSTREAM_RESET, 'internal error');
  if (!(error instanceof ProxyError)) options.log.error({ err: error }, 'unexpected error opening a tunnel');
  refuseTunnel(socket, proxyError);
  options.onComplete?.(context, proxyError.kind.status, proxyError.kind.flag);
}

export function attachOutboundTunnels(server: Server, options: TunnelOptions): void {
  server.on('upgrade', (incoming: IncomingMessage, socket: Duplex, head: Buffer) => {
    const context = newContext('outbound');
    const { path, authority } = requestTarget(incoming.url ?? '/', incoming.headers.host);
    const caller = new AbortController();
    socket.once('close', () => caller.abort());
    open(options, tunnelRequest(incoming, authority, path, caller.signal), context, 'http/1.1').then(
      ({ socket: upstream, endpoint, done }) => {
        const add = endpoint.viaSidecar ? { [TARGET_PORT_HEADER]: String(endpoint.port) } : undefined;
        upstream.write(requestHead(incoming, path, PROXY_ONLY, add));
        if (head.length > 0) upstream.write(head);
        options.streams?.tcpOpen(context);
        splice(socket, upstream, (bytes) => {
          done();
          options.onComplete?.(context, 101, '');
          options.streams?.tcpClose(context, bytes);
        });
      },
      (error: unknown) => fail(options, socket, context, error),
    );
  });

  server.on('connect', (incoming: IncomingMessage, socket: Duplex, head: Buffer) => {
    const caller = new AbortController();
    socket.once('close', () => caller.abort());
    const request = tunnelRequest(incoming, incoming.url ?? '', '/', caller.signal);
    openTcp(options, socket, request, head, () => socket.write('HTTP/1.1 200 Connection Established\r\n\r\n'), (context, error) => fail(options, socket, context, error));
  });
}

/** A captured connection to a TCP service's virtual IP: bytes both ways to one of its endpoints. */
export function serveCapturedTcp(socket: Socket, destination: OriginalDestination, connection: ConnectionInfo, options: TunnelOptions): void {
  const caller = new AbortController();
  socket.once('close', () => caller.abort());
  socket.on('error', () => socket.destroy());
  const authority = `${destination.address}:${destination.port}`;
  const request: ProxyRequest = { method: 'CONNECT', path: '/', authority, headers: {}, body: null, signal: caller.signal, connection, remoteAddress: socket.remoteAddress ?? '' };
  openTcp(options, socket, request, Buffer.alloc(0), () => undefined, (context, error) => {
    // No HTTP to answer with: the caller sees its connection reset.
    if (!(error instanceof ProxyError)) options.log.error({ err: error }, 'unexpected error opening a TCP tunnel');
    socket.resetAndDestroy();
    const kind = error instanceof ProxyError ? error.kind : ProxyErrorKind.UPSTREAM_RESET;
    options.onComplete?.(context, kind.status, kind.flag);
  });
}

function openTcp(options: TunnelOptions, socket: Duplex, request: ProxyRequest, head: Buffer, opened: () => void, failed: (context: RequestContext, error: unknown) => void): void {
  const context = newContext('outbound');
  open(options, request, context, 'weft-tcp').then(
    ({ socket: upstream, endpoint, done }) => {
      // To a sidecar, a first line names the application port; to anything else, nothing.
      if (endpoint.mtls || endpoint.viaSidecar) upstream.write(tcpPreface(endpoint.port));
      if (head.length > 0) upstream.write(head);
      opened();
      options.streams?.tcpOpen(context);
      splice(socket, upstream, (bytes) => {
        done();
        options.onComplete?.(context, 200, '');
        options.streams?.tcpClose(context, bytes);
      });
    },
    (error: unknown) => failed(context, error),
  );
}
