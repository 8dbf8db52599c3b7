// The inbound port: one listener for mTLS and plaintext. The first byte tells them apart (a
// TLS record starts with 0x16, a handshake). TLS connections go to a tls.Server that insists on
// a client certificate under the mesh roots (a bare TLSSocket would not enforce that), and ALPN
// picks HTTP/2, HTTP/1.1 or opaque TCP; the peer's SPIFFE identity is kept for authorization.
// Plaintext is accepted only while some port of the workload allows it (PERMISSIVE): HTTP/1.1,
// h2c, or a WEFT-TCP line; per-port decisions are made per request (inbound-admission.ts).
import type { Server as HttpServer } from 'node:http';
import type { Http2Server } from 'node:http2';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { peerIdentity } from '@weft/ca';
import type { Logger } from '@weft/runtime';
import { capturedDestination, connectionOf, setConnection } from '../http/connection-info.ts';
import { PLAINTEXT, type ConnectionInfo } from '../http/handler.ts';
import { dispatchPlaintext, looksLikeHttp1, startsHttp2, withFirstBytes } from '../http/plaintext-listener.ts';
import { startsTcpPreface } from '../http/tcp-preface.ts';
import type { WorkloadIdentity } from '../identity/workload-identity.ts';

const TLS_HANDSHAKE = 0x16;
/**
 * How long a plaintext caller may stay silent before it is taken for a server-first protocol
 * (MySQL, SMTP, ...) and connected to the workload's TCP port. Short: such a client waits for
 * the server's greeting, and every millisecond here is a millisecond of its connect time.
 */
const SERVER_FIRST_WAIT_MS = 100;

export interface InboundListenerOptions {
  readonly http1: HttpServer;
  readonly http2: Http2Server;
  /** Opaque TCP: ALPN weft-tcp over mTLS, or a plaintext WEFT-TCP line. */
  readonly tcp: (socket: Socket, connection: ConnectionInfo) => void;
  /**
   * Plaintext that is not HTTP, or a caller that does not speak first: passed, opaque, to the
   * workload's one TCP port, if it has exactly one (`port` undefined otherwise); with capture,
   * to the port it was headed for. Plaintext captured for a TCP port (`isTcp`) is always opaque.
   */
  readonly opaque: {
    readonly port: () => number | undefined;
    readonly isTcp: (port: number) => boolean;
    readonly serve: (socket: Socket, port: number) => void;
  };
  /** The port this listener is bound to (a connection for it was not redirected). */
  readonly listenerPort: () => number;
  readonly identity: WorkloadIdentity | undefined;
  /** Whether plaintext connections may be accepted at all now. */
  readonly plaintextAllowed: () => boolean;
  readonly log: Logger;
}

export function createInboundListener(options: InboundListenerOptions): Server {
  const { http1, http2, tcp, opaque, identity, log } = options;
  const tls = createTlsServer({ requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2', 'http/1.1', 'weft-tcp'], minVersion: 'TLSv1.2' });
  // Renewals and trust bundle changes apply to the next handshake; open connections stay.
  identity?.onChange(() => tls.setSecureContext(identity.secureContextOptions()));
  tls.on('secureConnection', (socket: TLSSocket) => {
    // What the listener learned before the handshake (the original destination), plus the peer.
    const secured: ConnectionInfo = { ...connectionOf(socket), mtls: true, peer: peerIdentity(socket.getPeerCertificate()) };
    setConnection(socket, secured);
    if (socket.alpnProtocol === 'h2') http2.emit('connection', socket);
    else if (socket.alpnProtocol === 'weft-tcp') tcp(socket, secured);
    else http1.emit('connection', socket);
  });
  tls.on('tlsClientError', (error, socket) => {
    log.debug({ error: error.message, remote: socket.remoteAddress }, 'inbound TLS handshake failed');
  });
  /** The application port a plaintext connection is for: where it was headed (capture), else the only TCP port. */
  const tcpPortFor = (socket: Socket): number | undefined => connectionOf(socket).originalDestination?.port ?? opaque.port();
  /** A silent plaintext caller of a server-first protocol goes straight to the TCP port. */
  const silence = (socket: Socket) => ({
    afterMs: SERVER_FIRST_WAIT_MS,
    handle: () => {
      const port = tcpPortFor(socket);
      if (port === undefined || !options.plaintextAllowed()) return false;
      opaque.serve(socket, port);
      return true;
    },
  });
  return createServer({ noDelay: true }, (socket) => {
    const destination = capturedDestination(socket, options.listenerPort());
    if (destination) setConnection(socket, { ...PLAINTEXT, originalDestination: destination });
    withFirstBytes(socket, (first) => {
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
      // Captured plaintext for a TCP port: the bytes are the application's, whatever they look like.
      if (destination && opaque.isTcp(destination.port)) opaque.serve(socket, destination.port);
      else if (startsTcpPreface(first)) tcp(socket, connectionOf(socket));
      else if (looksLikeHttp1(first) || startsHttp2(first)) dispatchPlaintext(socket, first, { http1, http2 });
      else {
        // Not HTTP: opaque TCP, if there is a TCP port to take it.
        const port = tcpPortFor(socket);
        // The first bytes are still unshifted in the socket: the splice sends them.
        if (port === undefined) socket.destroy();
        else opaque.serve(socket, port);
      }
    }, silence(socket));
  });
}
