// Endpoint resources (ClusterLoadAssignment): the members of one cluster.
import { isIP } from 'node:net';
import { ResourceType } from '@weft/proto';
import { checkPort, InvalidResourceError } from './invalid-resource.ts';

export interface EndpointConfig {
  readonly address: string;
  /** The application's port on the endpoint. */
  readonly port: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly weight: number;
  readonly ready: boolean;
  readonly workload: string;
  /** Where to connect: the endpoint's sidecar when traffic is not captured, else address:port. */
  readonly connectHost: string;
  readonly connectPort: number;
  /** True when connecting to the peer's sidecar directly, which then needs `port` in-band. */
  readonly viaSidecar: boolean;
  /** The endpoint's sidecar accepts mesh mTLS. */
  readonly mtls: boolean;
}

export interface EndpointsConfig {
  readonly clusterName: string;
  readonly endpoints: readonly EndpointConfig[];
}

const HOST_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/;

export function decodeEndpoints(name: string, bytes: Uint8Array): EndpointsConfig {
  const assignment = ResourceType.endpoints.decode(bytes);
  if (assignment.clusterName !== name) throw new InvalidResourceError(name, `resource is for cluster "${assignment.clusterName ?? ''}"`);
  const endpoints = (assignment.endpoints ?? []).map((endpoint, index): EndpointConfig => {
    const where = `${name} endpoint ${index}`;
    const address = endpoint.address ?? '';
    if (isIP(address) === 0) throw new InvalidResourceError(where, `"${address}" is not an IP address`);
    const port = checkPort(endpoint.port, 'port', where);
    let connectHost = address;
    let connectPort = port;
    if (endpoint.proxyAddress) {
      const match = HOST_PORT.exec(endpoint.proxyAddress);
      if (!match) throw new InvalidResourceError(where, `proxy address "${endpoint.proxyAddress}" is not host:port`);
      connectHost = (match[1] ?? match[2]) as string;
      connectPort = checkPort(Number(match[3]), 'proxy port', where);
    }
    return Object.freeze({
      address,
      port,
      labels: Object.freeze({ ...(endpoint.labels ?? {}) }),
      weight: Math.max(1, endpoint.weight ?? 1),
      ready: endpoint.ready ?? false,
      workload: endpoint.workload ?? '',
      connectHost,
      connectPort,
      viaSidecar: Boolean(endpoint.proxyAddress),
      mtls: endpoint.mtls ?? false,
    });
  });
  return Object.freeze({ clusterName: name, endpoints: Object.freeze(endpoints) });
}
