// The inbound port: one listener for mTLS and plaintext. The first byte tells them apart (a
// TLS record starts with 0x16, a handshake; HTTP starts with a method name). TLS connections
// must present a client certificate under the mesh roots; the peer's SPIFFE identity is kept
// for authorization. Plaintext is accepted only while some port of the workload allows it
// (PERMISSIVE); per-port decisions are made per request (inbound-handler.ts).
import { createServer, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
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
        const tls = new TLSSocket(socket, {
          isServer: true,
          secureContext: identity.secureContext(),
          requestCert: true,
          rejectUnauthorized: true,
          ALPNProtocols: ['http/1.1'],
        });
        tls.once('secure', () => {
          security.set(tls, { mtls: true, peer: peerIdentity(tls.getPeerCertificate()) });
          http.emit('connection', tls);
        });
        tls.once('error', (error: Error) => {
          log.debug({ error: error.message, remote: socket.remoteAddress }, 'inbound TLS handshake failed');
          tls.destroy();
        });
        // Not resumed: the TLS socket reads what was unshifted itself, on the next tick.
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
