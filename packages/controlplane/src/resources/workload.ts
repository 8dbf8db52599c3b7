// Workload: one running instance of an application (a pod, in Kubernetes terms) as the file
// registry describes it — its address, ports, labels, identity, the service it backs, and
// where its sidecar listens when traffic is not captured transparently.
import { quote, type Field } from '../registry/field.ts';
import { parseObjectMeta, type ObjectMeta } from './object-meta.ts';

export const PROTOCOLS = ['HTTP', 'HTTP2', 'GRPC', 'TCP'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export interface WorkloadPort {
  readonly name: string;
  /** The service port callers use. */
  readonly port: number;
  /** Where this workload's application listens for it (defaults to `port`). */
  readonly targetPort: number;
  readonly protocol: Protocol;
}

export interface Workload {
  readonly meta: ObjectMeta;
  /** Names of the services (in the workload's namespace) this workload backs. */
  readonly services: readonly string[];
  readonly address: string;
  readonly ports: readonly WorkloadPort[];
  readonly serviceAccount: string;
  /** Whether a Weft sidecar runs beside it (and so accepts mesh mTLS). */
  readonly hasSidecar: boolean;
  /** "host:port" of the sidecar's inbound listener, when traffic is not captured. */
  readonly sidecarInbound: string | undefined;
  readonly ready: boolean;
}

/** Port-name prefixes that say the protocol, as Istio reads them ("grpc-api", "tcp-db", "mysql"). */
const NAME_PREFIXES: readonly [string, Protocol][] = [
  ['http2', 'HTTP2'],
  ['grpc', 'GRPC'],
  ['http', 'HTTP'],
  ['tcp', 'TCP'],
  ['tls', 'TCP'],
  ['mongo', 'TCP'],
  ['mysql', 'TCP'],
  ['redis', 'TCP'],
];

/**
 * Protocols where the server speaks first (SMTP, MySQL, MongoDB, ...): a proxy that waited to
 * sniff the client's first bytes would wait for ever, so these ports are TCP unless declared.
 */
const SERVER_FIRST_PORTS = new Set([25, 110, 143, 587, 3306, 5432, 6379, 27017]);

/** The protocol of a port that does not declare one: from its name's prefix, else its number, else HTTP. */
export function inferProtocol(name: string, targetPort: number): Protocol {
  const lower = name.toLowerCase();
  const byName = NAME_PREFIXES.find(([prefix]) => lower === prefix || lower.startsWith(`${prefix}-`));
  if (byName) return byName[1];
  return SERVER_FIRST_PORTS.has(targetPort) ? 'TCP' : 'HTTP';
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[0-9a-zA-Z.-]+):(\d{1,5})$/;
const IP_ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)$/;

function parseHostPort(field: Field): string {
  const value = field.string();
  const match = HOST_PORT.exec(value);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) field.fail(`${quote(value)} is not host:port`);
  return value;
}

export function parseWorkload(doc: Field): Workload {
  doc.object(['apiVersion', 'kind', 'metadata', 'spec']);
  const meta = parseObjectMeta(doc.get('metadata'));
  const spec = doc.get('spec').object(['service', 'address', 'ports', 'serviceAccount', 'sidecar', 'ready']);

  const address = spec.get('address').string();
  if (!IP_ADDRESS.test(address)) spec.get('address').fail(`${quote(address)} is not an IP address`);

  const seenPorts = new Set<number>();
  const seenTargets = new Set<number>();
  const ports = spec.get('ports').list().map((portField) => {
    portField.object(['name', 'port', 'targetPort', 'protocol']);
    const port = portField.get('port').port();
    const targetPort = portField.get('targetPort').present ? portField.get('targetPort').port() : port;
    if (seenPorts.has(port)) portField.get('port').fail(`port ${port} is listed twice`);
    if (seenTargets.has(targetPort)) portField.get('targetPort').fail(`target port ${targetPort} is listed twice`);
    seenPorts.add(port);
    seenTargets.add(targetPort);
    return Object.freeze({
      name: portField.get('name').present ? portField.get('name').dnsLabel() : String(port),
      port,
      targetPort,
      protocol: portField.get('protocol').present ? portField.get('protocol').choice(PROTOCOLS) : inferProtocol(portField.get('name').present ? String(portField.get('name').value) : '', targetPort),
    });
  });

  const serviceField = spec.get('service');
  const services = serviceField.present ? [serviceField.dnsLabel()] : [];
  if (services.length > 0 && ports.length === 0) spec.get('ports').fail('a workload that backs a service must list its ports');

  const sidecar = spec.get('sidecar');
  if (sidecar.present) sidecar.object(['inbound']);
  const inbound = sidecar.get('inbound');
  return Object.freeze({
    meta,
    services: Object.freeze(services),
    address,
    ports: Object.freeze(ports),
    serviceAccount: spec.get('serviceAccount').present ? spec.get('serviceAccount').dnsLabel() : 'default',
    hasSidecar: sidecar.present,
    sidecarInbound: inbound.present ? parseHostPort(inbound) : undefined,
    ready: spec.get('ready').present ? spec.get('ready').boolean() : true,
  });
}
