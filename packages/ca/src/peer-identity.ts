// The SPIFFE identity in a peer certificate that TLS has already verified against the mesh
// roots. Read from the certificate's DER with the reader the CA itself uses, rather than by
// splitting Node's escaped "subjectaltname" string.
import { EXTENSION, readCertificateFields, readSubjectAltNames } from './x509-fields.ts';
import { parseSpiffeId } from './spiffe-id.ts';

export interface PeerIdentity {
  readonly spiffeId: string;
  readonly trustDomain: string;
  readonly namespace: string;
  readonly serviceAccount: string;
}

/**
 * The certificate's one URI SAN as a workload SPIFFE ID; undefined when it has none, more than
 * one, or another kind of URI. `certificate` is a tls PeerCertificate (getPeerCertificate(),
 * checkServerIdentity, grpc-js's sslPeerCertificate); only its `raw` DER is read.
 */
export function peerIdentity(certificate: { readonly raw?: Buffer } | undefined): PeerIdentity | undefined {
  // getPeerCertificate() returns {} when the peer sent no certificate.
  if (!certificate?.raw || !Buffer.isBuffer(certificate.raw)) return undefined;
  let uris: string[];
  try {
    uris = readSubjectAltNames(readCertificateFields(certificate.raw).extensions.get(EXTENSION.subjectAltName)).uris;
  } catch {
    return undefined;
  }
  const [uri] = uris;
  if (uris.length !== 1 || uri === undefined) return undefined;
  const parsed = parseSpiffeId(uri);
  return parsed && { spiffeId: uri, ...parsed };
}
