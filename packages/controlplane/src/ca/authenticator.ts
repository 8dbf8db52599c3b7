// Who a caller of the certificate service is. The identity in a certificate comes only from
// here. Implementations: bootstrap tokens (file registry) today; Kubernetes TokenReview later.
import type { WorkloadIdentity } from '@weft/ca';

export interface Authenticator {
  /** The identity `token` proves, or undefined when it proves none. Never logs the token. */
  authenticate(token: string): Promise<WorkloadIdentity | undefined>;
}
