// The retry conditions a Route may name (Envoy's retryOn vocabulary, as far as the proxy
// implements it): part of the protocol, so the control plane validates and the proxy accepts
// the same list. HTTP ones first, then gRPC statuses.
export const RETRY_CONDITIONS = [
  '5xx',
  'gateway-error',
  'reset',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
] as const;
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];
