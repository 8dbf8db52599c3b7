// TLS server verification by SPIFFE ID instead of host name: the chain is verified against the
// mesh roots by TLS itself; this checks that the certificate names one of the identities the
// control plane says may serve this destination. A valid mesh certificate for another
// identity is refused.
import type { PeerCertificate } from 'node:tls';
import { peerIdentity } from '@weft/ca';

export class PeerIdentityError extends Error {
  readonly code = 'WEFT_ERR_PEER_IDENTITY';
}

export function spiffeVerifier(expected: readonly string[]): (host: string, certificate: PeerCertificate) => Error | undefined {
  const allowed = new Set(expected);
  return (_host, certificate) => {
    const peer = peerIdentity(certificate);
    if (!peer) return new PeerIdentityError('peer certificate has no SPIFFE ID');
    if (!allowed.has(peer.spiffeId)) return new PeerIdentityError(`peer is ${peer.spiffeId}, expected ${expected.join(' or ') || 'no identity'}`);
    return undefined;
  };
}
