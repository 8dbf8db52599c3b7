// TrafficRoute: how requests to a service are routed — Istio VirtualService's http section in
// shape. Rules are tried in order, first match wins; a rule without `match` matches all.
import type { Field } from '../registry/field.ts';
import { parseFaultPolicy, type FaultPolicy } from './fault-policy.ts';
import { parseHeaderEdits, type HeaderEdits } from './header-operations.ts';
import { headerName } from './http-names.ts';
import { parseObjectMeta, type ObjectMeta } from './object-meta.ts';
import { parsePercent } from './percent.ts';
import { parseRetryPolicy, type RetryPolicy } from './retry-policy.ts';
import { parseStringMatch, type StringMatch } from './string-match.ts';

export type HeaderMatch =
  | { readonly name: string; readonly kind: 'value'; readonly match: StringMatch }
  | { readonly name: string; readonly kind: 'present' }
  | { readonly name: string; readonly kind: 'absent' };

export interface QueryParamMatch {
  readonly name: string;
  readonly match: StringMatch;
}

export interface RequestMatch {
  readonly uri: StringMatch | undefined;
  readonly method: StringMatch | undefined;
  readonly headers: readonly HeaderMatch[];
  readonly queryParams: readonly QueryParamMatch[];
}

/** A service (and optionally subset and port) as written, before it is resolved. */
export interface ServiceTarget {
  /** As written: a short name (resolved in the route's namespace) or a full host name. */
  readonly host: string;
  readonly subset: string | undefined;
  readonly port: number | undefined;
}

export interface RouteDestination extends ServiceTarget {
  readonly weight: number;
}

export interface MirrorTarget extends ServiceTarget {
  /** Share of requests copied, 0..100. */
  readonly percentage: number;
}

export interface HttpRouteRule {
  readonly name: string | undefined;
  /** Alternatives (OR); empty means the rule matches every request. */
  readonly matches: readonly RequestMatch[];
  readonly destinations: readonly RouteDestination[];
  readonly timeoutMs: number | undefined;
  /** Undefined: no retries (unlike Istio, which retries twice by default). */
  readonly retries: RetryPolicy | undefined;
  readonly fault: FaultPolicy | undefined;
  readonly mirror: MirrorTarget | undefined;
  readonly headers: HeaderEdits | undefined;
}

export interface TrafficRoute {
  readonly meta: ObjectMeta;
  readonly hosts: readonly string[];
  readonly http: readonly HttpRouteRule[];
}

/** Istio's default when `mirror` is set without `mirrorPercentage`: copy every request. */
const DEFAULT_MIRROR_PERCENTAGE = 100;

function parseHeaderMatch(name: string, field: Field): HeaderMatch {
  headerName(name, field);
  field.object(['exact', 'prefix', 'regex', 'present', 'absent']);
  // Exactly one: `{present: true, exact: "1"}` would otherwise drop the value silently.
  const kind = field.oneOf(['exact', 'prefix', 'regex', 'present', 'absent'] as const);
  if (kind === 'present' || kind === 'absent') {
    if (!field.get(kind).boolean()) field.get(kind).fail('only `true` is meaningful here');
    return Object.freeze({ name, kind });
  }
  return Object.freeze({ name, kind: 'value', match: parseStringMatch(field) });
}

function parseQueryParamMatch(name: string, field: Field): QueryParamMatch {
  if (name === '') field.fail('a query parameter name must not be empty');
  return Object.freeze({ name, match: parseStringMatch(field) });
}

function parseRequestMatch(field: Field): RequestMatch {
  field.object(['uri', 'method', 'headers', 'queryParams']);
  return Object.freeze({
    uri: field.get('uri').present ? parseStringMatch(field.get('uri')) : undefined,
    method: field.get('method').present ? parseStringMatch(field.get('method')) : undefined,
    headers: Object.freeze(field.get('headers').entries().map(([name, value]) => parseHeaderMatch(name, value))),
    queryParams: Object.freeze(field.get('queryParams').entries().map(([name, value]) => parseQueryParamMatch(name, value))),
  });
}

/** Istio's Destination: `{host, subset, port: {number}}`. */
function parseServiceTarget(field: Field): ServiceTarget {
  field.object(['host', 'subset', 'port']);
  const port = field.get('port');
  if (port.present) port.object(['number']);
  return {
    host: field.get('host').hostname(),
    subset: field.get('subset').present ? field.get('subset').dnsLabel() : undefined,
    port: port.present ? port.get('number').port() : undefined,
  };
}

function parseDestinations(field: Field): RouteDestination[] {
  const items = field.nonEmptyList();
  const destinations = items.map((item) => {
    item.object(['destination', 'weight']);
    const weight = item.get('weight');
    if (!weight.present && items.length > 1) weight.fail('required when a rule has several destinations');
    return Object.freeze({ ...parseServiceTarget(item.get('destination')), weight: weight.present ? weight.integer(0, 100) : 100 });
  });
  const total = destinations.reduce((sum, destination) => sum + destination.weight, 0);
  if (total !== 100) field.fail(`weights must sum to 100, got ${total}`);
  return destinations;
}

function parseMirror(rule: Field): MirrorTarget | undefined {
  const mirror = rule.get('mirror');
  const percentage = rule.get('mirrorPercentage');
  if (!mirror.present) {
    if (percentage.present) percentage.fail('needs `mirror`');
    return undefined;
  }
  return Object.freeze({ ...parseServiceTarget(mirror), percentage: parsePercent(percentage, DEFAULT_MIRROR_PERCENTAGE) });
}

function parseRule(rule: Field): HttpRouteRule {
  rule.object(['name', 'match', 'route', 'timeout', 'retries', 'fault', 'mirror', 'mirrorPercentage', 'headers']);
  const optional = <T>(name: string, parse: (field: Field) => T): T | undefined => (rule.get(name).present ? parse(rule.get(name)) : undefined);
  return Object.freeze({
    name: rule.get('name').optionalString(),
    matches: Object.freeze(rule.get('match').list().map(parseRequestMatch)),
    destinations: Object.freeze(parseDestinations(rule.get('route'))),
    timeoutMs: optional('timeout', (field) => field.durationMs()),
    retries: optional('retries', parseRetryPolicy),
    fault: optional('fault', parseFaultPolicy),
    mirror: parseMirror(rule),
    headers: optional('headers', parseHeaderEdits),
  });
}

export function parseTrafficRoute(doc: Field): TrafficRoute {
  doc.object(['apiVersion', 'kind', 'metadata', 'spec']);
  const meta = parseObjectMeta(doc.get('metadata'));
  const spec = doc.get('spec').object(['hosts', 'http']);
  const hosts = spec.get('hosts').nonEmptyList().map((host) => host.hostname());
  const http = spec.get('http').nonEmptyList().map(parseRule);
  return Object.freeze({ meta, hosts: Object.freeze(hosts), http: Object.freeze(http) });
}
