// MeshAuthentication: whether a workload's inbound traffic must be mTLS (STRICT), may be
// either (PERMISSIVE), or is plaintext (DISABLE). Istio PeerAuthentication in shape: mesh-wide
// in the root namespace, namespace-wide without a selector, per workload with one.
import { quote, type Field } from '../registry/field.ts';
import { parseObjectMeta, type ObjectMeta } from './object-meta.ts';

export const MTLS_MODES = ['STRICT', 'PERMISSIVE', 'DISABLE'] as const;
export type MtlsMode = (typeof MTLS_MODES)[number];

export interface MeshAuthentication {
  readonly meta: ObjectMeta;
  /** Labels of the workloads it applies to; undefined = every workload in scope. */
  readonly selector: Readonly<Record<string, string>> | undefined;
  readonly mode: MtlsMode | undefined;
  readonly portModes: ReadonlyMap<number, MtlsMode>;
}

function parseMode(field: Field): MtlsMode {
  field.object(['mode']);
  return field.get('mode').choice(MTLS_MODES);
}

export function parseMeshAuthentication(doc: Field): MeshAuthentication {
  doc.object(['apiVersion', 'kind', 'metadata', 'spec']);
  const meta = parseObjectMeta(doc.get('metadata'));
  const spec = doc.get('spec').object(['selector', 'mtls', 'portLevelMtls']);
  const selector = spec.get('selector');
  if (selector.present) selector.object(['matchLabels']);
  const portModes = new Map<number, MtlsMode>();
  for (const [port, modeField] of spec.get('portLevelMtls').entries()) {
    const number = Number(port);
    if (!Number.isInteger(number) || number < 1 || number > 65535) modeField.fail(`${quote(port)} is not a port number`);
    portModes.set(number, parseMode(modeField));
  }
  if (portModes.size > 0 && !selector.present) spec.get('portLevelMtls').fail('port-level modes need a workload selector');
  return Object.freeze({
    meta,
    selector: selector.present ? selector.get('matchLabels').stringMap() : undefined,
    mode: spec.get('mtls').present ? parseMode(spec.get('mtls')) : undefined,
    portModes,
  });
}
