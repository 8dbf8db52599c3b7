export * from './address.ts';
export * from './lifecycle.ts';
export * from './logger.ts';
export * from './json-endpoints.ts';
export * from './duration.ts';
export * from './poll.ts';
export * from './proxy-node-options.ts';
export * from './whole-number.ts';
