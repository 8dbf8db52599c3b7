export { ControlPlane, type BoundAddresses, type ControlPlaneOptions } from './control-plane.ts';
export { AdsServer, type ProxyStatus, type Rejection, type SnapshotSource, type TypeStatus } from './xds/ads-server.ts';
export { FileRegistry, InvalidMeshFileError } from './registry/file-registry.ts';
export { readMeshFile, formatFileProblem, type FileProblem } from './registry/mesh-file.ts';
export { SnapshotTranslator, clusterName } from './xds/translate.ts';
export { ResourceSet, ResourceSetBuilder, type ProxySnapshot } from './xds/snapshot.ts';
export { BootstrapTokenAuthenticator, newBootstrapToken, tokenDigest } from './ca/bootstrap-tokens.ts';
export type { Authenticator } from './ca/authenticator.ts';
export * from './injection/index.ts';
