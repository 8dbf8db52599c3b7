// The certificate service: authenticate the caller's bearer token, rate-limit per identity,
// sign the CSR for the token's identity (never the CSR's), answer with the chain and the trust
// bundle. Refusals are logged and counted by reason; keys and tokens never reach either.
import { status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { CaError, spiffeId, type CertificateAuthority } from '@weft/ca';
import { CreateCertificateResponse, type CreateCertificateRequest } from '@weft/proto';
import type { Logger } from '@weft/runtime';
import type { IssuanceMetrics } from '../metrics/controlplane-metrics.ts';
import type { Authenticator } from './authenticator.ts';
import type { IssuedCertificates } from './issued-certificates.ts';
import type { RateLimiter } from './rate-limiter.ts';

export interface IssuanceStats {
  issued: number;
  /** Refusals by reason: unauthenticated, rate_limited, identity_mismatch, invalid_csr, internal. */
  refused: Record<string, number>;
}

export interface CertificateServiceOptions {
  readonly ca: () => CertificateAuthority;
  readonly authenticator: Authenticator;
  readonly limiter: RateLimiter;
  readonly log: Logger;
  readonly stats: IssuanceStats;
  readonly metrics?: IssuanceMetrics;
  /** Who holds what, for `weft check`. */
  readonly issued: IssuedCertificates;
}

const BEARER = /^Bearer ([\x21-\x7e]{1,4096})$/;

class Refusal extends Error {
  readonly code: status;
  readonly reason: string;
  constructor(code: status, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

export function certificateServiceImplementation(options: CertificateServiceOptions): UntypedServiceImplementation {
  const { authenticator, limiter, log, stats, metrics, issued: issuedCertificates } = options;

  async function issue(call: ServerUnaryCall<CreateCertificateRequest, CreateCertificateResponse>): Promise<CreateCertificateResponse> {
    const header = call.metadata.get('authorization')[0];
    const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (!token) throw new Refusal(status.UNAUTHENTICATED, 'unauthenticated', 'missing bearer token (metadata "authorization: Bearer <token>")');
    const identity = await authenticator.authenticate(token);
    if (!identity) throw new Refusal(status.UNAUTHENTICATED, 'unauthenticated', 'token not recognised');
    const ca = options.ca();
    const id = spiffeId(ca.trustDomain, identity);
    if (!limiter.take(id)) throw new Refusal(status.RESOURCE_EXHAUSTED, 'rate_limited', `too many certificate requests for ${id}; retry later`);
    try {
      const issued = ca.sign(call.request.csrPem, identity, call.request.ttlSeconds ? { ttlSeconds: call.request.ttlSeconds } : {});
      log.info({ identity: id, serial: issued.serialNumber, notAfter: issued.notAfter.toISOString() }, 'certificate issued');
      issuedCertificates.record(call.request.proxyId, identity.namespace, issued);
      return CreateCertificateResponse.create({ certificateChainPem: [...issued.chainPem], trustBundlePem: [...ca.trustBundle()] });
    } catch (error) {
      if (!(error instanceof CaError)) throw error;
      if (error.code === 'WEFT_ERR_CSR_IDENTITY_MISMATCH') throw new Refusal(status.PERMISSION_DENIED, 'identity_mismatch', error.message);
      throw new Refusal(status.INVALID_ARGUMENT, 'invalid_csr', error.message);
    }
  }

  return {
    CreateCertificate: (call: ServerUnaryCall<CreateCertificateRequest, CreateCertificateResponse>, callback: sendUnaryData<CreateCertificateResponse>) => {
      issue(call).then(
        (response) => {
          stats.issued++;
          metrics?.issued();
          callback(null, response);
        },
        (error: unknown) => {
          const refusal = error instanceof Refusal ? error : new Refusal(status.INTERNAL, 'internal', 'certificate issuance failed');
          if (!(error instanceof Refusal)) log.error({ err: error }, 'certificate issuance failed');
          stats.refused[refusal.reason] = (stats.refused[refusal.reason] ?? 0) + 1;
          metrics?.refused(refusal.reason);
          log.warn({ peer: call.getPeer(), reason: refusal.reason, error: refusal.message }, 'certificate request refused');
          callback({ code: refusal.code, details: refusal.message });
        },
      );
    },
  };
}
