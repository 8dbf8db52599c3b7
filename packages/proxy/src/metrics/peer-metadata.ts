// Who called, for the inbound side's metrics: the calling sidecar names its workload and the
// service it routed to in two headers (Istio exchanges the same facts in x-envoy-peer-metadata).
// A certificate proves only the namespace and service account, so the headers are believed
// only from an mTLS peer whose certificate namespace matches (or in a mesh without identities,
// where nothing is proven anyway), and only in a name's shape — a label value a stranger could
// choose freely would make metric cardinality unbounded. They never reach the application.
import type { ConnectionInfo, HeaderMap } from '../http/handler.ts';

export const SOURCE_WORKLOAD_HEADER = 'weft-source-workload';
export const DESTINATION_SERVICE_HEADER = 'weft-destination-service';

/** A workload as metric labels know it. */
export interface WorkloadLabels {
  readonly workload: string;
  readonly namespace: string;
  /** SPIFFE ID; "" when not proven. */
  readonly principal: string;
}

export const UNKNOWN_WORKLOAD: WorkloadLabels = Object.freeze({ workload: 'unknown', namespace: 'unknown', principal: '' });

/** DNS-1123 subdomain-ish, dot-separated: what Kubernetes allows in names. */
const NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/** "name.namespace" (a namespace has no dots, so the last dot splits). */
export function splitWorkloadId(id: string): { workload: string; namespace: string } {
  const dot = id.lastIndexOf('.');
  return dot <= 0 ? { workload: id, namespace: '' } : { workload: id.slice(0, dot), namespace: id.slice(dot + 1) };
}

/** The headers an outbound request to a peer sidecar carries. */
export function peerMetadataHeaders(sourceWorkloadId: string, destinationService: string | undefined): Record<string, string> {
  return destinationService ? { [SOURCE_WORKLOAD_HEADER]: sourceWorkloadId, [DESTINATION_SERVICE_HEADER]: destinationService } : { [SOURCE_WORKLOAD_HEADER]: sourceWorkloadId };
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && NAME.test(value) ? value : undefined;
}

/**
 * Reads (and removes from `headers`) what a calling sidecar said about itself. `trustPlaintext`
 * is true only for a proxy without an identity, where no caller can prove anything.
 */
export function takePeerMetadata(headers: HeaderMap, connection: ConnectionInfo, trustPlaintext: boolean): { source: WorkloadLabels; destinationService: string | undefined } {
  const claimed = single(headers[SOURCE_WORKLOAD_HEADER]);
  const service = single(headers[DESTINATION_SERVICE_HEADER]);
  delete headers[SOURCE_WORKLOAD_HEADER];
  delete headers[DESTINATION_SERVICE_HEADER];
  const { peer } = connection;
  const believed = peer !== undefined || trustPlaintext;
  if (!believed) return { source: UNKNOWN_WORKLOAD, destinationService: undefined };
  const name = claimed === undefined ? undefined : splitWorkloadId(claimed);
  const workloadHolds = name !== undefined && (peer === undefined || name.namespace === peer.namespace);
  return {
    source: {
      workload: workloadHolds ? name.workload : 'unknown',
      namespace: peer?.namespace ?? (workloadHolds ? name.namespace : 'unknown'),
      principal: peer?.spiffeId ?? '',
    },
    destinationService: service,
  };
}
