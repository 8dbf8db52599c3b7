// Authorization of inbound requests by the AccessPolicies that apply to this workload, in
// Istio's order: any matching DENY policy refuses; then, if any ALLOW policy applies, the
// request must match one of them; with no ALLOW policy, what was not denied is allowed.
import type { ConfigStore } from '../config/config-store.ts';
import type { AccessPolicyConfig, AccessRequest } from '../config/resources/access-policy.ts';

export type AccessDecision = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const ALLOWED: AccessDecision = Object.freeze({ allowed: true });

export function decide(policies: readonly AccessPolicyConfig[], request: AccessRequest): AccessDecision {
  for (const policy of policies) {
    if (policy.action === 'DENY' && policy.matches(request)) return { allowed: false, reason: `denied by AccessPolicy ${policy.name}` };
  }
  const allows = policies.filter((policy) => policy.action === 'ALLOW');
  if (allows.length === 0 || allows.some((policy) => policy.matches(request))) return ALLOWED;
  return { allowed: false, reason: `no AccessPolicy allows this request (${allows.map((policy) => policy.name).join(', ')} apply)` };
}

/** The current policies, re-read when they change. */
export class Authorizer {
  private policies: readonly AccessPolicyConfig[] = [];

  constructor(store: ConfigStore) {
    store.onChange((kind) => {
      if (kind === 'accessPolicy') this.policies = [...store.values('accessPolicy').values()];
    });
  }

  decide(request: AccessRequest): AccessDecision {
    return this.policies.length === 0 ? ALLOWED : decide(this.policies, request);
  }
}
