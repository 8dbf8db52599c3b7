#!/usr/bin/env node
// A gRPC service for the protocol tests, on @grpc/grpc-js with JSON messages (no codegen):
// unary Echo (can fail with a chosen status, or be "down" with UNAVAILABLE), server-streaming
// Stream, bidirectional Chat, and Stats. Metadata is echoed; trailers name the replica.
import { parseArgs } from 'node:util';
import { Metadata, Server, ServerCredentials, status, type sendUnaryData, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { createLogger, formatHostPort, logListening, parseHostPort, runMain, stopOnSignals } from '@weft/runtime';
import { ECHO_SERVICE, type EchoRequest } from './grpc-echo-service.ts';

const log = createLogger('grpc-echo');

runMain(log, async () => {
  // LoopbackMesh passes demo-app flags too; only these matter here.
  const { values } = parseArgs({ strict: false, options: { workload: { type: 'string', default: 'echo' }, mode: { type: 'string', default: 'ok' }, listen: { type: 'string', default: '127.0.0.1:0' } } });
  const replica = String(values.workload);
  const down = values.mode === 'unavailable';
  let calls = 0;
  const trailer = (): Metadata => {
    const metadata = new Metadata();
    metadata.set('x-replica', replica);
    return metadata;
  };
  const server = new Server();
  server.addService(ECHO_SERVICE, {
    Echo: (call: ServerUnaryCall<EchoRequest, unknown>, callback: sendUnaryData<unknown>) => {
      calls++;
      // Down before anything is sent: a trailers-only UNAVAILABLE, which a proxy can retry.
      if (down) {
        callback({ code: status.UNAVAILABLE, details: `${replica} is down`, metadata: trailer() });
        return;
      }
      const echoed = call.metadata.get('x-echo')[0];
      if (echoed !== undefined) {
        const initial = new Metadata();
        initial.set('x-echo', String(echoed));
        call.sendMetadata(initial);
      }
      const reply = (): void => {
        if (call.request.failWith) callback({ code: call.request.failWith, details: call.request.message, metadata: trailer() });
        else callback(null, { message: call.request.message, replica }, trailer());
      };
      if (call.request.delayMs) setTimeout(reply, call.request.delayMs);
      else reply();
    },
    Stream: (call: ServerWritableStream<EchoRequest, unknown>) => {
      calls++;
      for (let index = 0; index < (call.request.count ?? 1); index++) call.write({ index, replica });
      call.end(trailer());
    },
    Chat: (call: ServerDuplexStream<EchoRequest, unknown>) => {
      calls++;
      call.on('data', (request: EchoRequest) => call.write({ message: request.message, replica }));
      call.on('end', () => call.end(trailer()));
    },
    Stats: (_call: ServerUnaryCall<EchoRequest, unknown>, callback: sendUnaryData<unknown>) => callback(null, { calls, replica }),
  });
  const address = parseHostPort(String(values.listen), '--listen');
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(formatHostPort(address), ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  logListening(log, 'app', { host: address.host, port });
  stopOnSignals(log, () => new Promise((resolve) => server.tryShutdown(() => resolve())));
});
