// TrafficRoute: how requests to a service are routed — Istio VirtualService's http section in
// shape. Rules are tried in order, first match wins; a rule without `match` matches all.
import type { Field } from '../registry/field.ts';
import { parseObjectMeta, type ObjectMeta } from './object-meta.ts';
import { parseStringMatch, type StringMatch } from './string-match.ts';

export type HeaderMatch =
  | { readonly name: string; readonly kind: 'value'; readonly match: StringMatch }
  | { readonly name: string; readonly kind: 'present' }
  | { readonly name: string; readonly kind: 'absent' };

export interface RequestMatch {
  readonly uri: StringMatch | undefined;
  readonly method: StringMatch | undefined;
  readonly headers: readonly HeaderMatch[];
}

export interface RouteDestination {
  /** As written: a short name (resolved in the route's namespace) or a full host name. */
  readonly host: string;
  readonly subset: string | undefined;
  readonly port: number | undefined;
  readonly weight: number;
}

export interface HttpRouteRule {
  readonly name: string | undefined;
  /** Alternatives (OR); empty means the rule matches every request. */
  readonly matches: readonly RequestMatch[];
  readonly destinations: readonly RouteDestination[];
  readonly timeoutMs: number | undefined;
}

export interface TrafficRoute {
  readonly meta: ObjectMeta;
  readonly hosts: readonly string[];
  readonly http: readonly HttpRouteRule[];
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

function parseHeaderMatch(name: string, field: Field): HeaderMatch {
  if (!HEADER_NAME.test(name)) field.fail(`"${name}" is not a lower-case HTTP header name`);
  field.object(['exact', 'prefix', 'regex', 'present', 'absent']);
  if (field.get('present').present || field.get('absent').present) {
    const kind = field.oneOf(['present', 'absent'] as const);
    if (!field.get(kind).boolean()) field.get(kind).fail('only `true` is meaningful here');
    return Object.freeze({ name, kind });
  }
  return Object.freeze({ name, kind: 'value', match: parseStringMatch(field) });
}

function parseRequestMatch(field: Field): RequestMatch {
  field.object(['uri', 'method', 'headers']);
  return Object.freeze({
    uri: field.get('uri').present ? parseStringMatch(field.get('uri')) : undefined,
    method: field.get('method').present ? parseStringMatch(field.get('method')) : undefined,
    headers: Object.freeze(field.get('headers').entries().map(([name, value]) => parseHeaderMatch(name, value))),
  });
}

function parseDestinations(field: Field): RouteDestination[] {
  const items = field.nonEmptyList();
  const destinations = items.map((item) => {
    item.object(['destination', 'weight']);
    const destination = item.get('destination').object(['host', 'subset', 'port']);
    const port = destination.get('port');
    if (port.present) port.object(['number']);
    const weight = item.get('weight');
    if (!weight.present && items.length > 1) weight.fail('required when a rule has several destinations');
    return Object.freeze({
      host: destination.get('host').string(),
      subset: destination.get('subset').present ? destination.get('subset').dnsLabel() : undefined,
      port: port.present ? port.get('number').port() : undefined,
      weight: weight.present ? weight.integer(0, 100) : 100,
    });
  });
  const total = destinations.reduce((sum, destination) => sum + destination.weight, 0);
  if (total !== 100) field.fail(`weights must sum to 100, got ${total}`);
  return destinations;
}

export function parseTrafficRoute(doc: Field): TrafficRoute {
  doc.object(['apiVersion', 'kind', 'metadata', 'spec']);
  const meta = parseObjectMeta(doc.get('metadata'));
  const spec = doc.get('spec').object(['hosts', 'http']);
  const hosts = spec.get('hosts').nonEmptyList().map((host) => host.string());
  const http = spec.get('http').nonEmptyList().map((rule): HttpRouteRule => {
    rule.object(['name', 'match', 'route', 'timeout']);
    return Object.freeze({
      name: rule.get('name').optionalString(),
      matches: Object.freeze(rule.get('match').list().map(parseRequestMatch)),
      destinations: Object.freeze(parseDestinations(rule.get('route'))),
      timeoutMs: rule.get('timeout').present ? rule.get('timeout').durationMs() : undefined,
    });
  });
  return Object.freeze({ meta, hosts: Object.freeze(hosts), http: Object.freeze(http) });
}
