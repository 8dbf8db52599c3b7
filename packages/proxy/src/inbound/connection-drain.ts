// Graceful close of the inbound HTTP connections when the sidecar drains. HTTP/2 sessions get
// GOAWAY: streams in flight finish, later ones are refused and the client sidecar sends them
// elsewhere. HTTP/1.1 connections carry `Connection: close` on their next response and are
// closed once idle. The inbound HTTP servers are fed connections by the listener and never
// listen themselves, so Node's own server.close() bookkeeping does not reach them.
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Http2Server, ServerHttp2Session } from 'node:http2';
import type { Duplex } from 'node:stream';

export class ConnectionDrain {
  private draining = false;
  /** Open HTTP/1.1 connections, each with its responses in flight. */
  private readonly http1 = new Map<Duplex, Set<ServerResponse>>();
  private readonly sessions = new Set<ServerHttp2Session>();

  constructor(servers: { readonly http1: HttpServer; readonly http2: Http2Server }) {
    servers.http1.on('connection', (socket: Duplex) => {
      this.http1.set(socket, new Set());
      socket.once('close', () => this.http1.delete(socket));
    });
    // An upgraded connection is a tunnel now: it ends when its bytes stop, not here.
    servers.http1.on('upgrade', (_request: IncomingMessage, socket: Duplex) => this.http1.delete(socket));
    // First, so a response the handler writes at once already knows about the drain.
    servers.http1.prependListener('request', (request: IncomingMessage, response: ServerResponse) => this.track(request.socket, response));
    servers.http2.on('session', (session: ServerHttp2Session) => {
      // A connection accepted just before the drain began: GOAWAY at once.
      if (this.draining) {
        session.close();
        return;
      }
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
  }

  private track(socket: Duplex, response: ServerResponse): void {
    const inFlight = this.http1.get(socket);
    if (!inFlight) return;
    inFlight.add(response);
    if (this.draining) response.shouldKeepAlive = false;
    response.once('close', () => {
      inFlight.delete(response);
      // Its response went out with keep-alive before the drain began: close it now it is idle.
      if (this.draining && inFlight.size === 0) socket.end();
    });
  }

  /** GOAWAY to every HTTP/2 session; HTTP/1.1 connections close now if idle, else after their response. */
  start(): void {
    this.draining = true;
    for (const session of this.sessions) session.close();
    for (const [socket, inFlight] of this.http1) {
      if (inFlight.size === 0) socket.end();
      // Node then answers with `Connection: close` and closes the connection after it.
      for (const response of inFlight) if (!response.headersSent) response.shouldKeepAlive = false;
    }
  }
}
