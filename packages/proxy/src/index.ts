export { Proxy, PROXY_VERSION, type BoundProxy, type ProxyOptions } from './proxy.ts';
export { ConfigStore } from './config/config-store.ts';
export { RESPONSE_FLAGS_HEADER, ProxyError, ProxyErrorKind } from './errors.ts';
