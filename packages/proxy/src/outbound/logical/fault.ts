// Fault injection (Istio's fault): delay a share of requests, abort a share with an HTTP or a
// gRPC status. Applied inside the route timeout, so a timeout shorter than the delay gives 504.
import { Readable } from 'node:stream';
import type { FaultConfig } from '../../config/resources/route-policies.ts';
import { RESPONSE_FLAGS_HEADER } from '../../errors.ts';
import type { Layer, ProxyResponse } from '../../http/handler.ts';

function aborted(abort: NonNullable<FaultConfig['abort']>): ProxyResponse {
  if (abort.grpcStatus !== undefined) {
    return { status: 200, headers: { 'content-type': 'application/grpc', 'grpc-status': String(abort.grpcStatus), 'grpc-message': 'fault injected', [RESPONSE_FLAGS_HEADER]: 'FI' }, body: null };
  }
  const text = Buffer.from('weft: fault injected\n');
  return {
    status: abort.httpStatus ?? 503,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(text.length), [RESPONSE_FLAGS_HEADER]: 'FI' },
    body: Readable.from([text]),
  };
}

export function faultLayer(fault: FaultConfig, random: () => number = Math.random): Layer {
  return (next) => async (request, context) => {
    if (fault.delay && random() * 100 < fault.delay.percentage) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, fault.delay?.delayMs);
        request.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      request.signal.throwIfAborted();
    }
    if (fault.abort && random() * 100 < fault.abort.percentage) {
      context.flag = 'FI';
      request.body?.resume();
      return aborted(fault.abort);
    }
    return next(request, context);
  };
}
