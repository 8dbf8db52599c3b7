// Opens sidecar-to-sidecar connections as mutual TLS: TLS 1.2 at least (1.3 when both ends
// have it), our current certificate (so a renewal applies to the next connection), ALPN naming
// the inner protocol, and the server verified by SPIFFE ID. The transports wait for the
// handshake themselves (socket-connect.ts), within the cluster's connect timeout.
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { WorkloadIdentity } from '../../identity/workload-identity.ts';
import { spiffeVerifier } from '../../identity/spiffe-verifier.ts';

export interface MtlsTarget {
  /** SPIFFE IDs the server may present. */
  readonly identities: readonly string[];
  /** SNI: the destination service, for the peer's logs (not used for verification). */
  readonly servername: string;
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
