// Every failure the proxy answers itself has a stable code, an HTTP status and an Envoy-style
// response flag, defined here and mapped to a response in exactly one place (http/serve.ts).
export const ProxyErrorKind = {
  NO_CONFIG: { code: 'WEFT_ERR_NO_CONFIG', status: 503, flag: 'NCFG' },
  NO_ROUTE: { code: 'WEFT_ERR_NO_ROUTE', status: 404, flag: 'NR' },
  NO_CLUSTER: { code: 'WEFT_ERR_NO_CLUSTER', status: 503, flag: 'NC' },
  NO_HEALTHY_UPSTREAM: { code: 'WEFT_ERR_NO_HEALTHY_UPSTREAM', status: 503, flag: 'UH' },
  UPSTREAM_CONNECT_FAILURE: { code: 'WEFT_ERR_UPSTREAM_CONNECT', status: 503, flag: 'UF' },
  UPSTREAM_RESET: { code: 'WEFT_ERR_UPSTREAM_RESET', status: 503, flag: 'UC' },
  UPSTREAM_TIMEOUT: { code: 'WEFT_ERR_UPSTREAM_TIMEOUT', status: 504, flag: 'UT' },
  UPSTREAM_OVERFLOW: { code: 'WEFT_ERR_UPSTREAM_OVERFLOW', status: 503, flag: 'UO' },
  FAULT_ABORT: { code: 'WEFT_ERR_FAULT_ABORT', status: 503, flag: 'FI' },
  DOWNSTREAM_GONE: { code: 'WEFT_ERR_DOWNSTREAM_GONE', status: 499, flag: 'DC' },
  BAD_REQUEST: { code: 'WEFT_ERR_BAD_REQUEST', status: 400, flag: 'DPE' },
  HEADERS_TOO_LARGE: { code: 'WEFT_ERR_HEADERS_TOO_LARGE', status: 431, flag: 'DPE' },
  ACCESS_DENIED: { code: 'WEFT_ERR_ACCESS_DENIED', status: 403, flag: 'RBAC' },
  MTLS_REQUIRED: { code: 'WEFT_ERR_MTLS_REQUIRED', status: 403, flag: 'MTLS' },
  /** outboundTrafficPolicy REGISTRY_ONLY: the destination is not a service of the mesh (Envoy's BlackHoleCluster). */
  NOT_IN_REGISTRY: { code: 'WEFT_ERR_NOT_IN_REGISTRY', status: 502, flag: 'BH' },
} as const;

export type ProxyErrorKind = (typeof ProxyErrorKind)[keyof typeof ProxyErrorKind];

export class ProxyError extends Error {
  readonly kind: ProxyErrorKind;
  constructor(kind: ProxyErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyError';
    this.kind = kind;
  }
  get code(): string {
    return this.kind.code;
  }
}

/** Header carrying the flag on responses the proxy generated itself. */
export const RESPONSE_FLAGS_HEADER = 'weft-response-flags';
