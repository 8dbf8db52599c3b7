// The outbound port. A connection the application made to it directly (no capture) is HTTP/1.1
// or h2c, routed by Host. A connection iptables redirected here carries its original
// destination: a mesh service's virtual IP and port, or anything else.
//   mesh service, HTTP port   -> the HTTP servers (Host routes; the destination fills in the port)
//   mesh service, TCP port    -> bytes to one of its endpoints, at once (server-first protocols)
//   not a mesh service        -> ALLOW_ANY: passed through, untouched, to where it was going;
//                                REGISTRY_ONLY: HTTP gets 502 BH, anything else a reset
import type { Server as HttpServer } from 'node:http';
import type { Http2Server } from 'node:http2';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { OriginalDestination } from '@weft/original-dst';
import type { Logger } from '@weft/runtime';
import { ProxyError, ProxyErrorKind } from '../errors.ts';
import { capturedDestination, setConnection } from '../http/connection-info.ts';
import { PLAINTEXT, type ConnectionInfo } from '../http/handler.ts';
import { dispatchPlaintext, looksLikeHttp1, withFirstBytes } from '../http/plaintext-listener.ts';
import { refuseTunnel, splice } from '../http/raw-http.ts';
import type { RouteTable } from './logical/route-table.ts';

export const OUTBOUND_TRAFFIC_POLICIES = ['ALLOW_ANY', 'REGISTRY_ONLY'] as const;
export type OutboundTrafficPolicy = (typeof OUTBOUND_TRAFFIC_POLICIES)[number];

/** How long a caller to an unknown destination may stay silent under REGISTRY_ONLY before it is reset. */
const REFUSAL_WAIT_MS = 1000;

export interface OutboundListenerOptions {
  readonly http1: HttpServer;
  readonly http2: Http2Server;
  readonly routes: RouteTable;
  /** A captured connection to a TCP service. */
  readonly tcp: (socket: Socket, destination: OriginalDestination, connection: ConnectionInfo) => void;
  readonly policy: OutboundTrafficPolicy;
  /** The port this listener is bound to (a connection for it was not redirected). */
  readonly listenerPort: () => number;
  readonly log: Logger;
}

/** Bytes both ways between the caller and where it was going; the proxy's UID keeps this connection out of capture. */
export function passThrough(socket: Socket, destination: OriginalDestination, log: Logger): void {
  socket.pause();
  const upstream = connect({ host: destination.address, port: destination.port, noDelay: true });
  upstream.once('connect', () => splice(socket, upstream, () => undefined));
  upstream.once('error', (error) => {
    log.debug({ destination: `${destination.address}:${destination.port}`, error: error.message }, 'passthrough connection failed');
    socket.resetAndDestroy();
  });
  socket.once('error', () => upstream.destroy());
}

/** An HTTP/1 caller gets `error` as a response; anything else a reset. */
function refuse(socket: Socket, error: ProxyError): void {
  withFirstBytes(
    socket,
    (first) => {
      if (looksLikeHttp1(first)) refuseTunnel(socket, error);
      else socket.resetAndDestroy();
    },
    { afterMs: REFUSAL_WAIT_MS, handle: () => (socket.resetAndDestroy(), true) },
  );
}

function refuseUnknown(socket: Socket, destination: OriginalDestination): void {
  refuse(socket, new ProxyError(ProxyErrorKind.NOT_IN_REGISTRY, `${destination.address}:${destination.port} is not a service of this mesh (outbound traffic policy REGISTRY_ONLY)`));
}

export function createOutboundListener(options: OutboundListenerOptions): Server {
  const servers = { http1: options.http1, http2: options.http2 };
  return createServer({ noDelay: true }, (socket) => {
    const destination = capturedDestination(socket, options.listenerPort());
    if (!destination) {
      withFirstBytes(socket, (first) => dispatchPlaintext(socket, first, servers));
      return;
    }
    const connection: ConnectionInfo = { ...PLAINTEXT, originalDestination: destination };
    setConnection(socket, connection);
    // While the control plane is asked about the destination, a reset must not go unhandled.
    const onEarlyError = (): void => void socket.destroy();
    socket.on('error', onEarlyError);
    void options.routes.virtualHostAt(destination).then(
      (service) => {
        socket.off('error', onEarlyError);
        if (socket.destroyed) return;
        if (service?.protocol === 'TCP') options.tcp(socket, destination, connection);
        else if (service) withFirstBytes(socket, (first) => dispatchPlaintext(socket, first, servers));
        else if (options.policy === 'ALLOW_ANY') passThrough(socket, destination, options.log);
        else refuseUnknown(socket, destination);
      },
      // Not known whether it is a mesh service (no answer from the control plane): neither
      // passed through in plaintext around the mesh's policies nor routed.
      (error: ProxyError) => {
        socket.off('error', onEarlyError);
        if (!socket.destroyed) refuse(socket, error);
      },
    );
  });
}
