// One call to the control plane's certificate service over TLS: the server must present the
// control plane's SPIFFE identity under the roots we trust; we prove ours with a bearer token.
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createCertificateMethod, CreateCertificateRequest, type CreateCertificateResponse } from '@weft/proto';
import { formatHostPort, type HostPort } from '@weft/runtime';
import { spiffeVerifier } from './spiffe-verifier.ts';

/**
 * The control plane is verified by SPIFFE ID, not host name; a fixed TLS server name also keeps
 * an IP address out of SNI (RFC 6066 forbids it).
 */
export const CONTROL_PLANE_CHANNEL_OPTIONS = { 'grpc.ssl_target_name_override': 'weft-controlplane', 'grpc.default_authority': 'weft-controlplane' };

export interface CertificateRequest {
  readonly address: HostPort;
  /** PEM roots to verify the control plane with. */
  readonly rootsPem: string;
  /** SPIFFE ID the control plane must present. */
  readonly controlPlaneIdentity: string;
  readonly token: string;
  readonly csrPem: string;
  readonly ttlSeconds: number;
  readonly proxyId: string;
  readonly timeoutMs: number;
}

export function requestCertificate(request: CertificateRequest): Promise<CreateCertificateResponse> {
  const channel = credentials.createSsl(Buffer.from(request.rootsPem), null, null, { checkServerIdentity: spiffeVerifier([request.controlPlaneIdentity]) });
  const client = new Client(formatHostPort(request.address), channel, CONTROL_PLANE_CHANNEL_OPTIONS);
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${request.token}`);
  return new Promise<CreateCertificateResponse>((resolve, reject) => {
    client.makeUnaryRequest(
      createCertificateMethod.path,
      createCertificateMethod.requestSerialize,
      createCertificateMethod.responseDeserialize,
      CreateCertificateRequest.create({ csrPem: request.csrPem, ttlSeconds: request.ttlSeconds, proxyId: request.proxyId }),
      metadata,
      { deadline: Date.now() + request.timeoutMs },
      (error: ServiceError | null, response?: CreateCertificateResponse) => (error || !response ? reject(error ?? new Error('empty response')) : resolve(response)),
    );
  }).finally(() => client.close());
}
