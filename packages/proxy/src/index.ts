export { Proxy, PROXY_VERSION, type BoundProxy, type ProxyOptions } from './proxy.ts';
export { ConfigStore } from './config/config-store.ts';
export { RESPONSE_FLAGS_HEADER, ProxyError, ProxyErrorKind } from './errors.ts';
export { TARGET_PORT_HEADER } from './outbound/concrete/upstream-cluster.ts';
export type { ClusterConfig } from './config/resources/cluster.ts';
export type { RouteConfig, RouteMatchDescription, StringMatchDescription, VirtualHostConfig } from './config/resources/route.ts';
export type { IdentityStatus } from './identity/workload-identity.ts';
export { DEFAULT_HTTP_LIMITS, MAX_HEADER_BYTES, maxRequestHeaders, type HttpLimits } from './http/request-limits.ts';
