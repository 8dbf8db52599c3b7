// Opens sidecar-to-sidecar connections as mutual TLS: TLS 1.2 at least (1.3 when both ends
// have it), our current certificate (so a renewal applies to the next connection), ALPN naming
// the inner protocol, and the server verified by SPIFFE ID. `mtlsSocket` serves HTTP/2
// sessions; `mtlsConnector` adapts it to undici's connector interface for HTTP/1.1 pools.
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { buildConnector } from 'undici';
import type { WorkloadIdentity } from '../../identity/workload-identity.ts';
import { spiffeVerifier } from '../../identity/spiffe-verifier.ts';

export interface MtlsTarget {
  /** SPIFFE IDs the server may present. */
  readonly identities: readonly string[];
  /** SNI: the destination service, for the peer's logs (not used for verification). */
  readonly servername: string;
}

class ConnectTimeoutError extends Error {
  readonly code = 'UND_ERR_CONNECT_TIMEOUT';
}

export function mtlsSocket(identity: WorkloadIdentity, target: MtlsTarget, where: { host: string; port: number; alpn: string }): TLSSocket {
  const socket = tlsConnect({
    host: where.host,
    port: where.port,
    secureContext: identity.secureContext(),
    servername: target.servername,
    ALPNProtocols: [where.alpn],
    minVersion: 'TLSv1.2',
    checkServerIdentity: spiffeVerifier(target.identities),
  });
  socket.setNoDelay(true);
  return socket;
}

export function mtlsConnector(identity: WorkloadIdentity, target: MtlsTarget, timeoutMs: number): buildConnector.connector {
  return (options, callback) => {
    const socket = mtlsSocket(identity, target, { host: options.hostname, port: Number(options.port), alpn: 'http/1.1' });
    // A custom connector gets no connect timeout from undici: the handshake must finish in time.
    const timer = setTimeout(() => socket.destroy(new ConnectTimeoutError(`TLS connect to ${options.hostname}:${options.port} timed out after ${timeoutMs}ms`)), timeoutMs);
    const onError = (error: Error): void => {
      clearTimeout(timer);
      callback(error, null);
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      callback(null, socket);
    });
    return socket;
  };
}
