// Opens sidecar-to-sidecar connections as mutual TLS for undici pools: TLS 1.2 at least (1.3
// when both ends have it), our current certificate (so a renewal applies to the next
// connection), ALPN naming the inner protocol, and the server verified by SPIFFE ID.
import { connect as tlsConnect } from 'node:tls';
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

export function mtlsConnector(identity: WorkloadIdentity, target: MtlsTarget, timeoutMs: number): buildConnector.connector {
  const checkServerIdentity = spiffeVerifier(target.identities);
  return (options, callback) => {
    const socket = tlsConnect({
      host: options.hostname,
      port: Number(options.port),
      secureContext: identity.secureContext(),
      servername: target.servername,
      ALPNProtocols: ['http/1.1'],
      minVersion: 'TLSv1.2',
      checkServerIdentity,
    });
    socket.setNoDelay(true);
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
