// Trust bundle resources: the roots the proxy trusts (used once mTLS arrives).
import { ResourceType } from '@weft/proto';
import { InvalidResourceError } from './invalid-resource.ts';

export interface TrustBundleConfig {
  readonly name: string;
  readonly trustDomain: string;
  readonly rootsPem: readonly string[];
}

export function decodeTrustBundle(name: string, bytes: Uint8Array): TrustBundleConfig {
  const bundle = ResourceType.trustBundle.decode(bytes);
  const roots = bundle.rootCertificatesPem ?? [];
  for (const [index, pem] of roots.entries()) {
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new InvalidResourceError(name, `root ${index} is not a PEM certificate`);
  }
  return Object.freeze({ name, trustDomain: bundle.trustDomain ?? '', rootsPem: Object.freeze([...roots]) });
}
