export { weft } from '../gen/weft.js';
export * from './resource-types.ts';
export * from './discovery-service.ts';
