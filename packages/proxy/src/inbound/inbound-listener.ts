// The inbound port: one listener for mTLS and plaintext. The first byte tells them apart (a
// TLS record starts with 0x16, a handshake; HTTP starts with a method name). TLS connections
// go to a tls.Server that insists on a client certificate under the mesh roots (a bare
// TLSSocket would not enforce that); the peer's SPIFFE identity is kept for authorization.
// Plaintext is accepted only while some port of the workload allows it (PERMISSIVE); per-port
// decisions are made per request (inbound-handler.ts).
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Server as HttpServer } from 'node:http';
import { peerIdentity } from '@weft/ca';
import type { Logger } from '@weft/runtime';
import { PLAINTEXT, type ConnectionSecurity } from '../http/handler.ts';
import type { WorkloadIdentity } from '../identity/workload-identity.ts';

const TLS_HANDSHAKE = 0x16;
/** A caller that sends nothing is not kept waiting for ever. */
const FIRST_BYTE_TIMEOUT_MS = 10_000;

const security = new WeakMap<Socket, ConnectionSecurity>();

/** How the connection a request arrived on was secured. */
export function securityOf(socket: Socket): ConnectionSecurity {
  return security.get(socket) ?? PLAINTEXT;
}

export interface InboundListenerOptions {
  readonly http: HttpServer;
  readonly identity: WorkloadIdentity | undefined;
  /** Whether plaintext connections may be accepted at all now. */
  readonly plaintextAllowed: () => boolean;
  readonly log: Logger;
}

export function createInboundListener(options: InboundListenerOptions): Server {
  const { http, identity, log } = options;
  const tls = createTlsServer({ requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['http/1.1'], minVersion: 'TLSv1.2' });
  // Renewals and trust bundle changes apply to the next handshake; open connections stay.
  identity?.onChange(() => tls.setSecureContext(identity.secureContextOptions()));
  tls.on('secureConnection', (socket: TLSSocket) => {
    security.set(socket, { mtls: true, peer: peerIdentity(socket.getPeerCertificate()) });
    http.emit('connection', socket);
  });
  tls.on('tlsClientError', (error, socket) => {
    log.debug({ error: error.message, remote: socket.remoteAddress }, 'inbound TLS handshake failed');
  });
  return createServer({ noDelay: true }, (socket) => {
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        if (!identity?.spiffeId) {
          socket.destroy();
          return;
        }
        // Not resumed: the TLS socket reads what was unshifted itself.
        tls.emit('connection', socket);
        return;
      }
      if (!options.plaintextAllowed()) {
        log.debug({ remote: socket.remoteAddress }, 'plaintext connection refused (STRICT mTLS)');
        socket.destroy();
        return;
      }
      http.emit('connection', socket);
      socket.resume();
    });
  });
}
