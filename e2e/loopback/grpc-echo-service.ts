// The test gRPC service's definition, shared by its server and the tests' clients: JSON
// messages, so no code generation is needed.
import type { ServiceDefinition } from '@grpc/grpc-js';

export interface EchoRequest {
  readonly message?: string;
  /** Answer with this gRPC status code instead (details = message). */
  readonly failWith?: number;
  readonly delayMs?: number;
  /** Messages to stream back. */
  readonly count?: number;
}

const serialize = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const deserialize = (bytes: Buffer): never => JSON.parse(bytes.toString()) as never;

function method(name: string, requestStream: boolean, responseStream: boolean) {
  return { path: `/weft.test.Echo/${name}`, requestStream, responseStream, requestSerialize: serialize, requestDeserialize: deserialize, responseSerialize: serialize, responseDeserialize: deserialize };
}

export const ECHO_SERVICE: ServiceDefinition = {
  Echo: method('Echo', false, false),
  Stream: method('Stream', false, true),
  Chat: method('Chat', true, true),
  Stats: method('Stats', false, false),
};
