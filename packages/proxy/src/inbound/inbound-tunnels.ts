// Inbound tunnels: an HTTP/1.1 Upgrade (WebSocket) and opaque TCP (after a WEFT-TCP line). Each
// is admitted like a request — declared port, STRICT mTLS, AccessPolicies (TCP has no method or
// path, so rules on those do not match it) — then spliced to the application's port.
import type { IncomingMessage, Server } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '@weft/runtime';
import { ProxyError, ProxyErrorKind } from '../errors.ts';
import { newContext, type ConnectionInfo, type RequestContext } from '../http/handler.ts';
import { UNKNOWN_WORKLOAD } from '../metrics/peer-metadata.ts';
import type { TcpStreamObserver } from '../metrics/tcp-stream-observer.ts';
import { refuseTunnel, requestHead, splice } from '../http/raw-http.ts';
import { parseTcpPreface } from '../http/tcp-preface.ts';
import { TARGET_PORT_HEADER } from '../outbound/concrete/upstream-cluster.ts';
import type { InboundAdmission } from './inbound-admission.ts';

export interface InboundTunnelOptions {
  readonly admission: InboundAdmission;
  readonly appHost: string;
  readonly log: Logger;
  readonly connectionOf: (socket: Socket) => ConnectionInfo;
  /** "<workload>.<namespace>" of this proxy. */
  readonly workload: string;
  readonly streams?: TcpStreamObserver;
}

const DROP = new Set([TARGET_PORT_HEADER]);
/** A caller must name its port promptly. */
const PREFACE_TIMEOUT_MS = 10_000;

/** For metrics: a TCP stream from `connection`'s peer (a certificate names no workload) to this workload. */
function streamContext(connection: ConnectionInfo, options: InboundTunnelOptions): RequestContext {
  const context = newContext('inbound');
  const { peer } = connection;
  context.source = peer ? { workload: 'unknown', namespace: peer.namespace, principal: peer.spiffeId } : UNKNOWN_WORKLOAD;
  context.destinationWorkload = options.workload;
  return context;
}

/** Splices a caller to the application, reporting the stream. */
function spliceToApp(caller: Duplex, app: Socket, connection: ConnectionInfo, options: InboundTunnelOptions): void {
  const context = streamContext(connection, options);
  options.streams?.tcpOpen(context);
  splice(caller, app, (bytes) => options.streams?.tcpClose(context, bytes));
}

function connectApp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, noDelay: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function appUnreachable(port: number, error: unknown): ProxyError {
  return new ProxyError(ProxyErrorKind.UPSTREAM_CONNECT_FAILURE, `cannot connect to the application on port ${port}: ${(error as Error).message}`);
}

export function attachInboundUpgrade(server: Server, options: InboundTunnelOptions): void {
  server.on('upgrade', (incoming: IncomingMessage, socket: Duplex, head: Buffer) => {
    const named = incoming.headers[TARGET_PORT_HEADER];
    let port: number;
    const connection = options.connectionOf(incoming.socket);
    try {
      port = options.admission.admit({ namedPort: typeof named === 'string' ? named : undefined, connection, method: incoming.method ?? 'GET', path: incoming.url ?? '/' }).port;
    } catch (error) {
      refuseTunnel(socket, error as ProxyError);
      return;
    }
    connectApp(options.appHost, port).then(
      (app) => {
        app.write(requestHead(incoming, incoming.url ?? '/', DROP));
        if (head.length > 0) app.write(head);
        spliceToApp(socket, app, connection, options);
      },
      (error: unknown) => refuseTunnel(socket, appUnreachable(port, error)),
    );
  });
}

/** Serves opaque TCP on `socket`: a WEFT-TCP line, then bytes both ways to the named port. */
export function serveTcpTunnel(socket: Socket, connection: ConnectionInfo, options: InboundTunnelOptions): void {
  let received = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), PREFACE_TIMEOUT_MS);
  const onData = (chunk: Buffer): void => {
    received = Buffer.concat([received, chunk]);
    const preface = parseTcpPreface(received);
    if (preface === undefined) return;
    socket.off('data', onData);
    socket.pause();
    clearTimeout(timer);
    if (preface instanceof Error) {
      socket.destroy();
      return;
    }
    serveOpaqueTcp(socket, connection, preface.port, preface.rest, options);
  };
  socket.on('data', onData);
  socket.once('error', () => socket.destroy());
}

/** Splices `socket` (after `first`, bytes already read) to application port `port`, if admitted. */
export function serveOpaqueTcp(socket: Socket, connection: ConnectionInfo, port: number, first: Buffer, options: InboundTunnelOptions): void {
  try {
    options.admission.admit({ namedPort: String(port), connection, method: '', path: '' });
  } catch (error) {
    options.log.debug({ error: (error as Error).message }, 'inbound TCP refused');
    socket.destroy();
    return;
  }
  socket.pause();
  connectApp(options.appHost, port).then(
    (app) => {
      if (first.length > 0) app.write(first);
      spliceToApp(socket, app, connection, options);
      socket.resume();
    },
    () => socket.destroy(),
  );
}
