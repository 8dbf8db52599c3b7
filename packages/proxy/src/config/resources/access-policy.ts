// AccessPolicy resources: who may call the proxy's own workload. Compiled on receipt into
// predicates; evaluation lives in inbound/authorization.ts.
import { ResourceType, type weft } from '@weft/proto';
import { enumName, InvalidResourceError } from './invalid-resource.ts';

/** What authorization knows about one inbound request. */
export interface AccessRequest {
  /** The caller's SPIFFE ID; undefined for plaintext callers. */
  readonly principal: string | undefined;
  /** The caller's namespace, from its SPIFFE ID. */
  readonly namespace: string | undefined;
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** Application port. */
  readonly port: number;
}

export interface AccessPolicyConfig {
  readonly name: string;
  readonly action: 'ALLOW' | 'DENY';
  readonly matches: (request: AccessRequest) => boolean;
}

const ACTIONS: Record<number, 'ALLOW' | 'DENY'> = { 1: 'ALLOW', 2: 'DENY' };

/** "*" alone, a leading or a trailing "*" are wildcards; anything else is exact. */
export function wildcard(pattern: string): (value: string) => boolean {
  if (pattern === '*') return () => true;
  if (pattern.startsWith('*')) {
    const suffix = pattern.slice(1);
    return (value) => value.endsWith(suffix);
  }
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return (value) => value.startsWith(prefix);
  }
  return (value) => value === pattern;
}

/** Principals are compared without the "spiffe://" scheme, so Istio's spelling works too. */
function withoutScheme(value: string): string {
  return value.startsWith('spiffe://') ? value.slice('spiffe://'.length) : value;
}

function anyOf(patterns: readonly string[], normalise: (value: string) => string = (value) => value): ((value: string | undefined) => boolean) | undefined {
  if (patterns.length === 0) return undefined;
  const tests = patterns.map((pattern) => wildcard(normalise(pattern)));
  // No value (a plaintext caller has no principal) matches nothing, "*" included.
  return (value) => value !== undefined && tests.some((test) => test(normalise(value)));
}

function compileSource(source: weft.config.v1.AccessSource.$Properties): (request: AccessRequest) => boolean {
  const principal = anyOf(source.principals ?? [], withoutScheme);
  const namespace = anyOf(source.namespaces ?? []);
  return (request) => (!principal || principal(request.principal)) && (!namespace || namespace(request.namespace));
}

function compileOperation(operation: weft.config.v1.AccessOperation.$Properties, where: string): (request: AccessRequest) => boolean {
  const path = anyOf(operation.paths ?? []);
  const methods = (operation.methods ?? []).map((method) => method.toUpperCase());
  const ports = operation.ports ?? [];
  if (ports.some((port) => port < 1 || port > 65535)) throw new InvalidResourceError(where, 'port out of range');
  return (request) =>
    (!path || path(request.path)) && (methods.length === 0 || methods.includes(request.method)) && (ports.length === 0 || ports.includes(request.port));
}

export function decodeAccessPolicy(name: string, bytes: Uint8Array): AccessPolicyConfig {
  const policy = ResourceType.accessPolicy.decode(bytes);
  if (policy.name !== name) throw new InvalidResourceError(name, `resource is named "${policy.name ?? ''}" inside`);
  const action = enumName(ACTIONS, policy.action, 'access action', name);
  const rules = (policy.rules ?? []).map((rule, index) => {
    const from = (rule.from ?? []).map(compileSource);
    const to = (rule.to ?? []).map((operation) => compileOperation(operation, `${name} rule ${index}`));
    return (request: AccessRequest) => (from.length === 0 || from.some((match) => match(request))) && (to.length === 0 || to.some((match) => match(request)));
  });
  return Object.freeze({ name, action, matches: (request: AccessRequest) => rules.some((rule) => rule(request)) });
}
