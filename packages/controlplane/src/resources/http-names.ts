// HTTP header names and values as routing documents may use them. Names are lower-case tokens
// (RFC 9110), the form HTTP/2 puts on the wire and the proxy compares against.
import { quote, type Field } from '../registry/field.ts';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

// Headers that describe one connection or the message framing. The proxy manages them itself;
// an edit would break the exchange (content-length, transfer-encoding) or its routing (host),
// so Envoy refuses them too.
const UNEDITABLE = new Set(['connection', 'content-length', 'host', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade']);

// The proxy's own signalling (weft-target-port, weft-response-flags, ...): a route that edits
// it could redirect inbound traffic or hide the proxy's diagnostics.
const RESERVED_PREFIX = 'weft-';

// Field values may hold visible characters, spaces and tabs; CR and LF would split the header.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** A header name to match on. `field` is the entry the name is the key of. */
export function headerName(name: string, field: Field): string {
  if (!HEADER_NAME.test(name)) field.fail(`${quote(name)} is not a lower-case HTTP header name`);
  return name;
}

/** A header name a route may set, add or remove. */
export function editableHeaderName(name: string, field: Field): string {
  headerName(name, field);
  if (UNEDITABLE.has(name)) field.fail(`${quote(name)} is a connection or framing header and cannot be edited`);
  if (name.startsWith(RESERVED_PREFIX)) field.fail(`${quote(name)} is reserved: headers starting with ${RESERVED_PREFIX} are the proxy's own`);
  return name;
}

export function headerValue(field: Field): string {
  // An empty value is a valid header, so string() (which refuses "") only judges non-strings.
  const value = typeof field.value === 'string' ? field.value : field.string();
  if (!HEADER_VALUE.test(value)) field.fail('header values cannot contain line breaks or control characters');
  return value;
}
