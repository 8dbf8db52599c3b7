// The Weft pair: a control plane (file registry, with its CA) and two sidecars with SPIFFE
// identities. Load enters the client sidecar's outbound listener with Host app:8080; it routes
// over mTLS to the server sidecar's inbound listener, which forwards to the app. Logging is at
// warn so it costs nothing per request.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EPHEMERAL_PROXY_LISTENERS, IdentityFiles, ManagedProcess, PROGRAMS, toMeshFile, type MeshDocument } from '@weft/cli';
import { formatHostPort, pollUntil, PROXY_NODE_OPTIONS, type HostPort } from '@weft/runtime';
import { CLIENT_CPU, SERVER_CPU, type Pinning } from './pinning.ts';
import type { Processes } from './processes.ts';
import { waitFor200 } from './probe.ts';

/** The service name and port the client addresses. */
export const APP_HOST = 'app:8080';
const API_VERSION = 'mesh.weft.dev/v1alpha1';
const ENV = { WEFT_LOG_LEVEL: 'warn' };

export interface WeftPair {
  readonly controlPlane: ManagedProcess;
  readonly client: ManagedProcess;
  readonly server: ManagedProcess;
  /** Where load goes: the client sidecar's outbound listener. */
  readonly port: number;
}

function workload(name: string, inbound: HostPort, service?: { name: string; appPort: number; protocol: AppProtocol }): MeshDocument {
  const app = service?.name ?? name;
  return {
    apiVersion: API_VERSION,
    kind: 'Workload',
    metadata: { name, namespace: 'default', labels: { app, version: 'v1' } },
    spec: {
      ...(service ? { service: service.name } : {}),
      address: '127.0.0.1',
      ports: service ? [{ name: service.protocol.toLowerCase(), port: 8080, targetPort: service.appPort, protocol: service.protocol }] : [],
      serviceAccount: app,
      sidecar: { inbound: formatHostPort(inbound) },
    },
  };
}

function start(processes: Processes, name: string, script: string, args: string[], nodeArgs: readonly string[] = []): ManagedProcess {
  const managed = new ManagedProcess(name, script, args, { env: ENV, nodeArgs });
  processes.track(managed.child.pid);
  processes.onStop(name, async () => {
    await managed.stop();
    processes.untrack(managed.child.pid);
  });
  return managed;
}

function startProxy(processes: Processes, program: string, name: string, xds: HostPort, proxyArgs: readonly string[], nodeArgs: readonly string[]): ManagedProcess {
  return start(processes, name, program, ['--xds-address', formatHostPort(xds), '--workload', name, '--namespace', 'default', ...EPHEMERAL_PROXY_LISTENERS, ...proxyArgs], [...PROXY_NODE_OPTIONS.split(' '), ...nodeArgs]);
}

/** A sidecar's flags for its identity: the token of its service account and the root to trust. */
async function identityArgs(identity: IdentityFiles, serviceAccount: string): Promise<string[]> {
  return ['--token-file', await identity.tokenFile('default', serviceAccount), '--ca-root-cert', identity.rootCertFile];
}

export interface WeftPairOptions {
  readonly root: string;
  readonly appPort: number;
  readonly processes: Processes;
  readonly pinning: Pinning;
  /** Names the pair's directory and processes when a run starts several; default "weft". */
  readonly name?: string;
  /** Extra weft-proxy flags for both sidecars. */
  readonly proxyArgs?: readonly string[];
  /** Node flags for both sidecars (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** The sidecar program; default the bundle that ships (PROGRAMS.proxyBundle). */
  readonly proxyProgram?: string;
  /** What the app speaks; default HTTP. */
  readonly protocol?: AppProtocol;
  /** TrafficRoutes and DestinationPolicies for the service "app" (retries, outlier detection...). */
  readonly routing?: readonly MeshDocument[];
}

export type AppProtocol = 'HTTP' | 'GRPC';

export async function startWeftPair(options: WeftPairOptions): Promise<WeftPair> {
  const { processes, pinning } = options;
  const name = options.name ?? 'weft';
  const proxyArgs = options.proxyArgs ?? [];
  const dir = join(options.root, name);
  await mkdir(dir, { recursive: true });
  const meshFile = join(dir, 'mesh.yaml');
  // An empty mesh to start with; the real one once the sidecars have their ports.
  await writeFile(meshFile, toMeshFile([]));

  const identity = new IdentityFiles(dir);
  await identity.prepare();
  const controlPlane = start(processes, `${name} controlplane`, PROGRAMS.controlPlane, [
    '--registry',
    `file:${meshFile}`,
    '--xds-address',
    'off',
    '--secure-address',
    '127.0.0.1:0',
    '--ca-dir',
    identity.caDir,
    '--bootstrap-tokens',
    identity.tokensFile,
    '--debug-address',
    '127.0.0.1:0',
  ]);
  const xds = await controlPlane.listening('secure');
  // Idle while measuring; kept off the core under test all the same.
  await pinning.pin(controlPlane.child.pid, CLIENT_CPU);

  const nodeArgs = options.nodeArgs ?? [];
  const program = options.proxyProgram ?? PROGRAMS.proxyBundle;
  const client = startProxy(processes, program, 'bench-client', xds, [...(await identityArgs(identity, 'bench-client')), ...proxyArgs], nodeArgs);
  const server = startProxy(processes, program, 'bench-server', xds, [...(await identityArgs(identity, 'app')), ...proxyArgs], nodeArgs);
  const [clientOutbound, clientInbound, serverInbound] = await Promise.all([client.listening('outbound'), client.listening('inbound'), server.listening('inbound')]);
  await Promise.all([server.listening('outbound'), ...[client, server].flatMap((proxy) => [proxy.listening('admin'), proxy.listening('stats')])]);
  await pinning.pin(client.child.pid, SERVER_CPU);
  await pinning.pin(server.child.pid, SERVER_CPU);

  const documents = [workload('bench-client', clientInbound), workload('bench-server', serverInbound, { name: 'app', appPort: options.appPort, protocol: options.protocol ?? 'HTTP' }), ...(options.routing ?? [])];
  // Replaced atomically, so the control plane never reads half a file.
  await writeFile(`${meshFile}.tmp`, toMeshFile(documents));
  await rename(`${meshFile}.tmp`, meshFile);

  const exited = (): string | undefined => {
    const dead = [controlPlane, client, server].find((managed) => !managed.running);
    return dead && `${dead.name} exited:\n${dead.output()}`;
  };
  if ((options.protocol ?? 'HTTP') === 'HTTP') await waitFor200(`${name} pair`, clientOutbound.port, APP_HOST, 20_000, exited);
  else {
    // A gRPC app answers no plain GET: wait until both sidecars hold their certificates and configuration.
    const admins = await Promise.all([client.listening('admin'), server.listening('admin')]);
    await pollUntil(`${name} pair to be ready`, 20_000, async () => {
      const reason = exited();
      if (reason) throw new Error(reason);
      const ready = await Promise.all(admins.map((admin) => fetch(`http://${formatHostPort(admin)}/ready`).then((response) => response.ok, () => false)));
      return ready.every(Boolean) ? true : undefined;
    });
  }
  return { controlPlane, client, server, port: clientOutbound.port };
}
