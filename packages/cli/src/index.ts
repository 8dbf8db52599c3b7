export { ManagedProcess, type LogRecord } from './supervisor.ts';
export { LoopbackMesh, PROGRAMS, toMeshFile, workloadDocument, type MeshDocument, type RunningWorkload, type WorkloadSpec } from './demo/loopback-mesh.ts';
