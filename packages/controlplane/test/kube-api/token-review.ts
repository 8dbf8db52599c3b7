// TEST DOUBLE support (not a Kubernetes API server): TokenReview against tokens a test
// registered, with the outcomes of the real service-account token authenticator.
import { createHash } from 'node:crypto';
import { ApiError } from './errors.ts';

export interface RegisteredToken {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly audiences: readonly string[];
  readonly expired?: boolean;
  /** Bound pod, reported in status.user.extra like a projected token's. */
  readonly podName?: string;
  readonly podUid?: string;
}

/** What the API server assumes when a TokenReview names no audiences: its own. */
export const API_SERVER_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';

function stableUid(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function refused(error: string): Record<string, unknown> {
  // The real union authenticator wraps every failure like this.
  return { authenticated: false, user: {}, error: `[invalid bearer token, ${error}]` };
}

function authenticated(token: RegisteredToken, audiences: string[]): Record<string, unknown> {
  const extra: Record<string, string[]> = {};
  if (token.podName !== undefined) extra['authentication.kubernetes.io/pod-name'] = [token.podName];
  if (token.podUid !== undefined) extra['authentication.kubernetes.io/pod-uid'] = [token.podUid];
  return {
    authenticated: true,
    user: {
      username: `system:serviceaccount:${token.namespace}:${token.serviceAccount}`,
      uid: stableUid(`${token.namespace}/${token.serviceAccount}`),
      groups: ['system:serviceaccounts', `system:serviceaccounts:${token.namespace}`, 'system:authenticated'],
      ...(Object.keys(extra).length > 0 ? { extra } : {}),
    },
    audiences,
  };
}

interface TokenReviewSpec {
  token?: unknown;
  audiences?: unknown;
}

/** The TokenReview the server returns (201) for a posted one. */
export function reviewToken(body: unknown, tokens: ReadonlyMap<string, RegisteredToken>): Record<string, unknown> {
  const spec: TokenReviewSpec = (body as { spec?: TokenReviewSpec } | null)?.spec ?? {};
  if (typeof spec.token !== 'string' || spec.token === '') throw ApiError.badRequest('token is required for TokenReview in authentication');
  const requested = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : [API_SERVER_AUDIENCE];
  const registered = tokens.get(spec.token);
  let status: Record<string, unknown>;
  if (registered === undefined) {
    status = refused('square/go-jose: compact JWS format must have three parts');
  } else if (registered.expired === true) {
    status = refused('service account token has expired');
  } else {
    const overlap = requested.filter((a) => registered.audiences.includes(a));
    status =
      overlap.length > 0
        ? authenticated(registered, overlap)
        : refused(`token audiences ${JSON.stringify(registered.audiences)} is invalid for the target audiences ${JSON.stringify(requested)}`);
  }
  return { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: { creationTimestamp: null }, spec, status };
}
