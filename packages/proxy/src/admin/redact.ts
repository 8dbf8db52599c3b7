// What /config_dump must not show: configuration can carry credentials a route adds to
// requests (an Authorization header set by a TrafficRoute, say). Keys never enter the config
// store at all; this covers header values and any field named like a secret.
const SENSITIVE_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token']);
const SECRET_FIELD = /(private)?key(pem)?$|token|password|secret/i;
export const REDACTED = '[redacted]';

function isHeaderPair(value: unknown): value is readonly [string, string] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string';
}

/** A JSON-ready copy of `value` with credentials replaced by "[redacted]". */
export function redactSecrets(value: unknown): unknown {
  if (isHeaderPair(value) && SENSITIVE_HEADERS.has(value[0].toLowerCase())) return [value[0], REDACTED];
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value instanceof Map) return redactSecrets(Object.fromEntries(value));
  // Sets (retryOn, retriable codes) would otherwise serialise as {}.
  if (value instanceof Set) return [...value].map(redactSecrets);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, SECRET_FIELD.test(key) && typeof field === 'string' ? REDACTED : redactSecrets(field)]));
  }
  return value;
}
