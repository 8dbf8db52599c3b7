export { ManagedProcess, type LogRecord } from './supervisor.ts';
export { EPHEMERAL_PROXY_LISTENERS, LoopbackMesh, PROGRAMS, toMeshFile, workloadDocument, type MeshDocument, type RunningWorkload, type WorkloadSpec } from './demo/loopback-mesh.ts';
export { installCommand } from './install/install-command.ts';
export { histogramQuantile, parsePrometheusText, type Bucket, type Sample } from './demo/prometheus-text.ts';
export { IdentityFiles } from './demo/identity-files.ts';
