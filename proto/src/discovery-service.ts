// gRPC definition of the aggregated discovery stream, built from the generated message code
// (grpc-js needs only paths and (de)serialisers; no reflection at run time). Messages are
// built with `DiscoveryRequest.create(...)` / `DiscoveryResponse.create(...)`.
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { weft } from '../gen/weft.js';

export const { DiscoveryRequest, DiscoveryResponse } = weft.discovery.v1;
export type DiscoveryRequest = weft.discovery.v1.DiscoveryRequest;
export type DiscoveryResponse = weft.discovery.v1.DiscoveryResponse;

/**
 * A DiscoveryResponse already in wire form. The control plane encodes a resource set once and
 * sends it to every proxy: protobuf merges concatenated encodings, so the shared encoding plus
 * the encoding of this response's nonce is the whole response.
 */
export class EncodedDiscoveryResponse {
  readonly bytes: Buffer;

  constructor(shared: Uint8Array, nonce: string, resourceNames: readonly string[] = []) {
    this.bytes = Buffer.concat([shared, DiscoveryResponse.encode({ nonce, resourceNames: [...resourceNames] }).finish()]);
  }
}

export const streamResourcesMethod: MethodDefinition<DiscoveryRequest, DiscoveryResponse> = {
  path: '/weft.discovery.v1.AggregatedDiscoveryService/StreamResources',
  requestStream: true,
  responseStream: true,
  requestSerialize: (value) => Buffer.from(DiscoveryRequest.encode(value).finish()),
  requestDeserialize: (bytes) => DiscoveryRequest.decode(bytes),
  responseSerialize: (value) => Buffer.from(DiscoveryResponse.encode(value).finish()),
  responseDeserialize: (bytes) => DiscoveryResponse.decode(bytes),
};

/** The server's side of the method: it may also write responses already encoded. */
const streamResourcesServerMethod: MethodDefinition<DiscoveryRequest, DiscoveryResponse | EncodedDiscoveryResponse> = {
  ...streamResourcesMethod,
  responseSerialize: (value) => (value instanceof EncodedDiscoveryResponse ? value.bytes : streamResourcesMethod.responseSerialize(value)),
};

export const aggregatedDiscoveryService: ServiceDefinition = {
  StreamResources: streamResourcesServerMethod,
};
