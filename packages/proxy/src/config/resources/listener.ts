// Listener resources: the ports the proxy's own workload serves (inbound).
import { ResourceType } from '@weft/proto';
import { checkPort, enumName, InvalidResourceError } from './invalid-resource.ts';

export type Protocol = 'HTTP' | 'HTTP2' | 'GRPC' | 'TCP';
export type TlsMode = 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export const PROTOCOLS: Record<number, Protocol> = { 0: 'HTTP', 1: 'HTTP', 2: 'HTTP2', 3: 'GRPC', 4: 'TCP' };
const TLS_MODES: Record<number, TlsMode> = { 0: 'PERMISSIVE', 1: 'DISABLE', 2: 'PERMISSIVE', 3: 'STRICT' };

export interface InboundListenerConfig {
  readonly name: string;
  /** The application's port. */
  readonly port: number;
  readonly protocol: Protocol;
  readonly tlsMode: TlsMode;
}

export function decodeListener(name: string, bytes: Uint8Array): InboundListenerConfig {
  const listener = ResourceType.listener.decode(bytes);
  if (listener.name !== name) throw new InvalidResourceError(name, `resource is named "${listener.name ?? ''}" inside`);
  return Object.freeze({
    name,
    port: checkPort(listener.port, 'port', name),
    protocol: enumName(PROTOCOLS, listener.protocol, 'protocol', name),
    tlsMode: enumName(TLS_MODES, listener.tlsMode, 'TLS mode', name),
  });
}
