// Kubernetes service-account tokens, checked by the API server's TokenReview: a pod presents
// its projected token (audience weft-ca, bound to the pod, short-lived), and the identity it
// proves is the (namespace, service account) the API server reports — nothing the caller says.
// Tokens for other audiences (such as the default API token), expired or unknown ones prove
// nothing.
import { AuthenticationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { WorkloadIdentity } from '@weft/ca';
import { describeError } from '../kubernetes/api-errors.ts';
import type { Authenticator } from './authenticator.ts';

export const CA_TOKEN_AUDIENCE = 'weft-ca';

const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

export class TokenReviewAuthenticator implements Authenticator {
  private readonly api: AuthenticationV1Api;
  private readonly audience: string;

  constructor(kubeConfig: KubeConfig, audience = CA_TOKEN_AUDIENCE) {
    this.api = kubeConfig.makeApiClient(AuthenticationV1Api);
    this.audience = audience;
  }

  async authenticate(token: string): Promise<WorkloadIdentity | undefined> {
    let review;
    try {
      review = await this.api.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [this.audience] } } });
    } catch (error) {
      // The API server could not answer: that is not the caller's fault, so not a refusal.
      throw new Error(`TokenReview failed: ${describeError(error)}`, { cause: error });
    }
    const status = review.status;
    if (!status?.authenticated || !(status.audiences ?? []).includes(this.audience)) return undefined;
    const match = SERVICE_ACCOUNT_USER.exec(status.user?.username ?? '');
    if (!match) return undefined; // a user or node token, not a workload's
    return { namespace: match[1] as string, serviceAccount: match[3] as string };
  }
}
