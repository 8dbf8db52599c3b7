export { weft } from '../gen/weft.js';
export * from './resource-types.ts';
export * from './discovery-service.ts';
export * from './certificate-service.ts';
export * from './mutable-certificate-provider.ts';
export * from './retry-conditions.ts';
