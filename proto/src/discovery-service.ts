// gRPC definition of the aggregated discovery stream, built from the generated message code
// (grpc-js needs only paths and (de)serialisers; no reflection at run time). Messages are
// built with `DiscoveryRequest.create(...)` / `DiscoveryResponse.create(...)`.
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { weft } from '../gen/weft.js';

export const { DiscoveryRequest, DiscoveryResponse } = weft.discovery.v1;
export type DiscoveryRequest = weft.discovery.v1.DiscoveryRequest;
export type DiscoveryResponse = weft.discovery.v1.DiscoveryResponse;

export const streamResourcesMethod: MethodDefinition<DiscoveryRequest, DiscoveryResponse> = {
  path: '/weft.discovery.v1.AggregatedDiscoveryService/StreamResources',
  requestStream: true,
  responseStream: true,
  requestSerialize: (value) => Buffer.from(DiscoveryRequest.encode(value).finish()),
  requestDeserialize: (bytes) => DiscoveryRequest.decode(bytes),
  responseSerialize: (value) => Buffer.from(DiscoveryResponse.encode(value).finish()),
  responseDeserialize: (bytes) => DiscoveryResponse.decode(bytes),
};

export const aggregatedDiscoveryService: ServiceDefinition = {
  StreamResources: streamResourcesMethod,
};
