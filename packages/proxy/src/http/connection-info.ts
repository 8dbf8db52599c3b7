// What a listener learned about a connection (mTLS peer, original destination), kept on the
// socket for the HTTP layers and tunnels that serve it later.
import type { Socket } from 'node:net';
import { originalDestination, type OriginalDestination } from '@weft/original-dst';
import { PLAINTEXT, type ConnectionInfo } from './handler.ts';

/**
 * Kept on the socket itself rather than in a WeakMap: an HTTP/2 session exposes its socket
 * through a Proxy, which forwards property reads but is not the same object.
 */
const CONNECTION = Symbol('weft.connectionInfo');

type InfoSocket = Socket & { [CONNECTION]?: ConnectionInfo; _parent?: Socket };

/** What is known about the connection `socket` belongs to (a TLS socket inherits from the socket it wraps). */
export function connectionOf(socket: Socket): ConnectionInfo {
  const info = socket as InfoSocket;
  return info[CONNECTION] ?? (info._parent && info._parent !== socket ? connectionOf(info._parent) : PLAINTEXT);
}

export function setConnection(socket: Socket, connection: ConnectionInfo): void {
  (socket as InfoSocket)[CONNECTION] = connection;
}

/**
 * Where `socket` was headed before iptables redirected it to this listener (on `listenerPort`),
 * or undefined when it was not redirected: the kernel then reports nothing, or the listener itself.
 */
export function capturedDestination(socket: Socket, listenerPort: number): OriginalDestination | undefined {
  const destination = originalDestination(socket);
  if (!destination) return undefined;
  const local = socket.localAddress?.replace(/^::ffff:/, '');
  if (destination.port === listenerPort && (destination.address === local || destination.address.startsWith('127.'))) return undefined;
  return destination;
}
