// Route resources: the virtual host of one service port — the names it answers to and its
// routes, first match wins. Matchers are compiled here, once, so the request path only runs
// prepared predicates.
import { ResourceType, type weft } from '@weft/proto';
import { compileLinearRegExp } from '@weft/runtime';
import type { HeaderMap } from '../../http/handler.ts';
import { checkPort, enumName, InvalidResourceError, timerMs } from './invalid-resource.ts';
import { PROTOCOLS, type Protocol } from './listener.ts';
import {
  decodeFault,
  decodeHeaderEdits,
  decodeMirror,
  decodeRetryPolicy,
  type FaultConfig,
  type HeaderEdits,
  type MirrorConfig,
  type RetryPolicyConfig,
} from './route-policies.ts';

export type ValueMatcher = (value: string) => boolean;

export interface RequestFacts {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** The query string without "?", "" when there is none. */
  readonly query: string;
  readonly headers: HeaderMap;
}

export interface WeightedClusterConfig {
  readonly cluster: string;
  readonly weight: number;
}

/** One of exact, prefix or regex. */
export type StringMatchDescription = { readonly exact: string } | { readonly prefix: string } | { readonly regex: string };

/** What a route matches, as data (`matches` is the compiled form): for the admin endpoint. */
export interface RouteMatchDescription {
  readonly path?: StringMatchDescription;
  readonly method?: StringMatchDescription;
  readonly headers: readonly ({ readonly name: string } & ({ readonly value: StringMatchDescription } | { readonly present: true } | { readonly absent: true }))[];
  readonly queryParams: readonly ({ readonly name: string } & ({ readonly value: StringMatchDescription } | { readonly present: true }))[];
}

export interface RouteConfig {
  readonly name: string;
  readonly match: RouteMatchDescription;
  readonly matches: (request: RequestFacts) => boolean;
  readonly clusters: readonly WeightedClusterConfig[];
  readonly timeoutMs: number;
  readonly retries: RetryPolicyConfig | undefined;
  readonly fault: FaultConfig | undefined;
  readonly mirror: MirrorConfig | undefined;
  readonly requestHeaders: HeaderEdits | undefined;
  readonly responseHeaders: HeaderEdits | undefined;
}

export interface VirtualHostConfig {
  readonly name: string;
  readonly service: string;
  readonly port: number;
  /** Names and virtual IPs, lower case. */
  readonly domains: readonly string[];
  readonly routes: readonly RouteConfig[];
  readonly protocol: Protocol;
}

function describeString(match: weft.config.v1.StringMatch.$Properties | null | undefined): StringMatchDescription | undefined {
  if (match?.exact != null) return { exact: match.exact };
  if (match?.prefix != null) return { prefix: match.prefix };
  if (match?.regex != null) return { regex: match.regex };
  return undefined;
}

/** Called after compileMatch, which has rejected anything malformed. */
function describeMatch(match: weft.config.v1.RouteMatch.$Properties | null | undefined): RouteMatchDescription {
  const path = describeString(match?.path);
  const method = describeString(match?.method);
  return Object.freeze({
    ...(path ? { path } : {}),
    ...(method ? { method } : {}),
    headers: (match?.headers ?? []).map((header) => {
      const name = header.name ?? '';
      if (header.present) return { name, present: true as const };
      if (header.absent) return { name, absent: true as const };
      return { name, value: describeString(header.value) as StringMatchDescription };
    }),
    queryParams: (match?.queryParams ?? []).map((parameter) => {
      const name = parameter.name ?? '';
      return parameter.present ? { name, present: true as const } : { name, value: describeString(parameter.value) as StringMatchDescription };
    }),
  });
}

function compileString(match: weft.config.v1.StringMatch.$Properties | null | undefined, where: string): ValueMatcher | undefined {
  if (!match) return undefined;
  if (match.exact != null) {
    const exact = match.exact;
    return (value) => value === exact;
  }
  if (match.prefix != null) {
    const prefix = match.prefix;
    return (value) => value.startsWith(prefix);
  }
  if (match.regex != null) {
    let regex: RegExp;
    try {
      // Anchored: the whole value must match, as in Envoy's safe_regex.
      regex = compileLinearRegExp(`^(?:${match.regex})$`);
    } catch (error) {
      throw new InvalidResourceError(where, `invalid regex: ${(error as Error).message}`);
    }
    return (value) => regex.test(value);
  }
  throw new InvalidResourceError(where, 'string match sets none of exact, prefix, regex');
}

function headerValue(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function compileMatch(match: weft.config.v1.RouteMatch.$Properties | null | undefined, where: string): (request: RequestFacts) => boolean {
  const path = compileString(match?.path, `${where} path`);
  const method = compileString(match?.method, `${where} method`);
  const headers = (match?.headers ?? []).map((header, index) => {
    const name = header.name ?? '';
    if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) throw new InvalidResourceError(`${where} header ${index}`, `"${name}" is not a lower-case header name`);
    if (header.present) return (facts: RequestFacts) => headerValue(facts.headers, name) !== undefined;
    if (header.absent) return (facts: RequestFacts) => headerValue(facts.headers, name) === undefined;
    const value = compileString(header.value, `${where} header ${name}`) as ValueMatcher;
    return (facts: RequestFacts) => {
      const actual = headerValue(facts.headers, name);
      return actual !== undefined && value(actual);
    };
  });
  const query = (match?.queryParams ?? []).map((parameter, index) => {
    const name = parameter.name ?? '';
    if (name === '') throw new InvalidResourceError(`${where} query parameter ${index}`, 'has no name');
    const value = parameter.present ? undefined : (compileString(parameter.value, `${where} query parameter ${name}`) as ValueMatcher);
    return (params: URLSearchParams) => {
      const actual = params.get(name);
      return actual !== null && (!value || value(actual));
    };
  });
  return (facts) =>
    (!path || path(facts.path)) &&
    (!method || method(facts.method)) &&
    headers.every((predicate) => predicate(facts)) &&
    (query.length === 0 || queryMatches(query, facts.query));
}

function queryMatches(predicates: readonly ((params: URLSearchParams) => boolean)[], query: string): boolean {
  const params = new URLSearchParams(query);
  return predicates.every((predicate) => predicate(params));
}

function decodeRoute(route: weft.config.v1.Route.$Properties, where: string): RouteConfig {
  const clusters = (route.clusters ?? []).map((entry) => Object.freeze({ cluster: entry.cluster ?? '', weight: entry.weight ?? 0 }));
  if (clusters.length === 0) throw new InvalidResourceError(where, 'route has no clusters');
  if (clusters.some((entry) => entry.cluster === '')) throw new InvalidResourceError(where, 'route names an empty cluster');
  const total = clusters.reduce((sum, entry) => sum + entry.weight, 0);
  if (total !== 100) throw new InvalidResourceError(where, `cluster weights sum to ${total}, not 100`);
  return Object.freeze({
    name: route.name || where,
    matches: compileMatch(route.match, where),
    match: describeMatch(route.match),
    clusters: Object.freeze(clusters),
    timeoutMs: timerMs(route.timeoutMs, 'timeout', where),
    retries: decodeRetryPolicy(route.retries, where),
    fault: decodeFault(route.fault, where),
    mirror: decodeMirror(route.mirror, where),
    requestHeaders: decodeHeaderEdits(route.requestHeaders, `${where} request headers`),
    responseHeaders: decodeHeaderEdits(route.responseHeaders, `${where} response headers`),
  });
}

export function decodeRouteConfiguration(name: string, bytes: Uint8Array): VirtualHostConfig {
  const config = ResourceType.route.decode(bytes);
  if (config.name !== name) throw new InvalidResourceError(name, `resource is named "${config.name ?? ''}" inside`);
  const domains = (config.domains ?? []).map((domain) => domain.toLowerCase());
  if (domains.length === 0) throw new InvalidResourceError(name, 'virtual host has no domains');
  return Object.freeze({
    name,
    service: config.service ?? '',
    port: checkPort(config.port, 'port', name),
    domains: Object.freeze(domains),
    routes: Object.freeze((config.routes ?? []).map((route, index) => decodeRoute(route, `${name} route ${index}`))),
    protocol: enumName(PROTOCOLS, config.protocol, 'protocol', name),
  });
}
