// What the control plane needs from a registry (file or Kubernetes): a current MeshModel and a
// notification when a new one is accepted.
import type { MeshModel } from '../model/mesh-model.ts';

export interface RegistryStatus {
  /** Where objects come from, e.g. "file:/etc/weft/mesh.yaml". */
  readonly source: string;
  readonly acceptedAt: string | undefined;
  /** Problems of the most recent refused change; empty when the latest change was accepted. */
  readonly rejected: readonly string[];
  /** Per watched collection (Kubernetes): synced, object count, restarts, last error. */
  readonly watches?: readonly unknown[];
}

export interface MeshRegistry {
  /** Reads the initial state; rejects when there is no valid one. */
  start(): Promise<MeshModel>;
  current(): MeshModel;
  onModel(listener: (model: MeshModel) => void): () => void;
  status(): RegistryStatus;
  stop(): void;
}
