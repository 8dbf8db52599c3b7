// Inbound HTTP: admitted requests go to the application's port on localhost, over HTTP/1.1 or
// h2c as the port's protocol says, without the weft-target-port header.
import { formatHostPort } from '@weft/runtime';
import { RESPONSE_FLAGS_HEADER } from '../errors.ts';
import type { Handler } from '../http/handler.ts';
import { TARGET_PORT_HEADER } from '../outbound/concrete/cluster-manager.ts';
import type { UpstreamPools } from '../outbound/endpoint/upstream-pools.ts';
import { takePeerMetadata } from '../metrics/peer-metadata.ts';
import type { InboundAdmission } from './inbound-admission.ts';

export interface InboundOptions {
  readonly admission: InboundAdmission;
  readonly pools: UpstreamPools;
  readonly appHost: string;
  /** "<workload>.<namespace>" */
  readonly workload: string;
  /** Believe callers' peer metadata without mTLS: only in a mesh without identities. */
  readonly trustPlaintextMetadata: boolean;
}

export function inboundHandler(options: InboundOptions): Handler {
  const { admission, pools, appHost, workload, trustPlaintextMetadata } = options;
  return async (request, context) => {
    context.destinationWorkload = workload;
    const headers = { ...request.headers };
    const peer = takePeerMetadata(headers, request.connection, trustPlaintextMetadata);
    context.source = peer.source;
    context.destinationService = peer.destinationService ?? 'unknown';
    const named = headers[TARGET_PORT_HEADER];
    delete headers[TARGET_PORT_HEADER];
    const listener = admission.admit({ namedPort: typeof named === 'string' ? named : undefined, connection: request.connection, method: request.method, path: request.path });
    context.upstreamAddress = formatHostPort({ host: appHost, port: listener.port });
    const protocol = listener.protocol === 'HTTP2' || listener.protocol === 'GRPC' ? 'h2' : 'http1';
    const response = await pools.get({ host: appHost, port: listener.port, protocol }).send({ ...request, headers });
    if (response.headers[RESPONSE_FLAGS_HEADER] === undefined) return response;
    // Flags are the sidecars' word (the caller's retries act on UC and UF): an app cannot forge them.
    const { [RESPONSE_FLAGS_HEADER]: _, ...appHeaders } = response.headers;
    return { ...response, headers: appHeaders };
  };
}
