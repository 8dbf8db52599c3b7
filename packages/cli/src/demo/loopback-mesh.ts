// A whole mesh on loopback, every part its own process: the control plane (file registry),
// and per workload a sidecar and a demo application. Ports are ephemeral; the mesh file is
// written once sidecars and apps have reported theirs. `weft demo` and the loopback tests
// build on this.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { PROXY_NODE_OPTIONS, formatHostPort, type HostPort } from '@weft/runtime';
import { ManagedProcess } from '../supervisor.ts';
import { IdentityFiles } from './identity-files.ts';

const API_VERSION = 'mesh.weft.dev/v1alpha1';

function programPath(packageName: string, file: string): string {
  return join(dirname(fileURLToPath(import.meta.resolve(packageName))), file);
}

export const PROGRAMS = {
  controlPlane: programPath('@weft/controlplane', 'main.ts'),
  proxy: programPath('@weft/proxy', 'main.ts'),
  /** The sidecar as shipped: one JavaScript file (npm run bundle; npm ci, test and bench build it). */
  proxyBundle: fileURLToPath(import.meta.resolve('@weft/proxy/bundle')),
  demoApp: join(dirname(fileURLToPath(import.meta.url)), 'demo-app.ts'),
};

/** weft-proxy arguments putting every listener on an ephemeral loopback port (tests, demo, bench). */
export const EPHEMERAL_PROXY_LISTENERS: readonly string[] = ['outbound', 'inbound', 'admin', 'stats', 'health'].flatMap((listener) => [`--${listener}-address`, '127.0.0.1:0']);

export interface WorkloadSpec {
  readonly name: string;
  readonly namespace?: string;
  /** The service it backs; none for a client-only workload. */
  readonly service?: string;
  readonly version?: string;
  /** Service port; the app's real (ephemeral) port becomes the target port. */
  readonly port?: number;
  /** Hosts ("orders:8080") the app calls through its sidecar on each request. */
  readonly calls?: readonly string[];
  /** Whether to run a demo app (client-only workloads like a load generator have none). */
  readonly app?: boolean;
  /** Extra demo-app flags, e.g. ["--fail-rate", "0.1"]. */
  readonly appArgs?: readonly string[];
  /** Another application program instead of the demo app; it gets the same flags. */
  readonly program?: string;
  /** The service port's protocol; default HTTP. */
  readonly protocol?: 'HTTP' | 'HTTP2' | 'GRPC' | 'TCP';
  /** Extra weft-proxy flags for its sidecar, e.g. ["--access-log", "all"]. */
  readonly proxyArgs?: readonly string[];
}

export interface RunningWorkload {
  readonly spec: WorkloadSpec;
  readonly sidecar: ManagedProcess;
  readonly app: ManagedProcess | undefined;
  readonly outbound: HostPort;
  readonly inbound: HostPort;
  readonly admin: HostPort;
  readonly stats: HostPort;
  readonly health: HostPort;
  readonly appAddress: HostPort | undefined;
}

export type MeshDocument = Record<string, unknown>;

export function workloadDocument(workload: RunningWorkload, ready = true): MeshDocument {
  const { spec } = workload;
  const labels: Record<string, string> = { app: spec.service ?? spec.name, version: spec.version ?? 'v1' };
  return {
    apiVersion: API_VERSION,
    kind: 'Workload',
    metadata: { name: spec.name, namespace: spec.namespace ?? 'default', labels },
    spec: {
      ...(spec.service ? { service: spec.service } : {}),
      address: '127.0.0.1',
      ports: workload.appAddress ? [{ name: (spec.protocol ?? 'HTTP').toLowerCase(), port: spec.port ?? 8080, targetPort: workload.appAddress.port, protocol: spec.protocol ?? 'HTTP' }] : [],
      serviceAccount: serviceAccountOf(spec),
      sidecar: { inbound: formatHostPort(workload.inbound) },
      ready,
    },
  };
}

/** Each service's workloads run as a service account named after it; clients after themselves. */
export function serviceAccountOf(spec: WorkloadSpec): string {
  return spec.service ?? spec.name;
}

/** JSON is YAML: documents are written as one JSON object each. */
export function toMeshFile(documents: readonly MeshDocument[]): string {
  return documents.map((document) => JSON.stringify(document, null, 1)).join('\n---\n') + '\n';
}

export interface LoopbackMeshOptions {
  readonly dir: string;
  /**
   * Identities (default): a CA, bootstrap tokens, mTLS between sidecars, xDS over TLS, and a
   * mesh-wide MeshAuthentication in this mode. false: plaintext everywhere (development mode).
   */
  readonly mtls?: 'STRICT' | 'PERMISSIVE' | false;
  /** Certificate lifetime the sidecars ask for (e.g. "4s" to watch renewals); default 24h. */
  readonly certTtl?: string;
  /** The sidecar program; default the TypeScript sources (PROGRAMS.proxy). */
  readonly proxyProgram?: string;
  /** Node flags for the sidecars besides PROXY_NODE_OPTIONS. */
  readonly proxyNodeOptions?: string;
  readonly echo?: (name: string, line: string) => void;
}

export class LoopbackMesh {
  readonly dir: string;
  readonly meshFile: string;
  readonly workloads = new Map<string, RunningWorkload>();
  /** The CA and token files; undefined in plaintext mode. */
  readonly identity: IdentityFiles | undefined;
  /** Workloads written with `ready: false`, as a kubelet would report a pod not ready yet. */
  private readonly notReady = new Set<string>();
  controlPlane: ManagedProcess | undefined;
  /** Where proxies get configuration: the TLS port with identities, else the plaintext one. */
  xds: HostPort | undefined;
  debug: HostPort | undefined;
  private readonly options: LoopbackMeshOptions;

  constructor(options: LoopbackMeshOptions) {
    this.options = options;
    this.dir = options.dir;
    this.meshFile = join(options.dir, 'mesh.yaml');
    this.identity = options.mtls === false ? undefined : new IdentityFiles(options.dir);
  }

  /** The mesh-wide mTLS mode document, when identities are on. */
  private meshAuthentication(): MeshDocument[] {
    const mode = this.options.mtls ?? 'STRICT';
    if (mode === false) return [];
    return [{ apiVersion: API_VERSION, kind: 'MeshAuthentication', metadata: { name: 'default', namespace: 'weft-system' }, spec: { mtls: { mode } } }];
  }

  private spawn(name: string, script: string, args: string[], env: NodeJS.ProcessEnv = {}): ManagedProcess {
    const echo = this.options.echo;
    return new ManagedProcess(name, script, args, { env: { WEFT_LOG_LEVEL: process.env.WEFT_LOG_LEVEL ?? 'info', ...env }, echo: echo && ((line) => echo(name, line)) });
  }

  /** Starts (or restarts, on the same xDS port) the control plane. */
  async startControlPlane(): Promise<HostPort> {
    await mkdir(this.dir, { recursive: true });
    if (!this.controlPlane) await this.writeMeshFile([]);
    const xds = formatHostPort({ host: '127.0.0.1', port: this.xds?.port ?? 0 });
    const identity = this.identity;
    if (identity) await identity.prepare();
    const controlPlane = this.spawn('controlplane', PROGRAMS.controlPlane, [
      '--registry',
      `file:${this.meshFile}`,
      '--debug-address',
      formatHostPort({ host: '127.0.0.1', port: this.debug?.port ?? 0 }),
      ...(identity ? ['--xds-address', 'off', '--secure-address', xds, '--ca-dir', identity.caDir, '--bootstrap-tokens', identity.tokensFile] : ['--xds-address', xds]),
    ]);
    this.controlPlane = controlPlane;
    this.xds = await controlPlane.listening(identity ? 'secure' : 'xds');
    this.debug = await controlPlane.listening('debug');
    return this.xds;
  }

  /**
   * Starts a workload's sidecar and app. With `ready: false` its document says not ready
   * until `setReady` — the way to add a workload to a running mesh without sending it traffic
   * before its sidecar has its own configuration.
   */
  async addWorkload(spec: WorkloadSpec, options: { ready?: boolean } = {}): Promise<RunningWorkload> {
    if (options.ready === false) this.notReady.add(spec.name);
    const { sidecar, outbound, inbound, admin, stats, health } = await this.startSidecar(spec);
    let app: ManagedProcess | undefined;
    let appAddress: HostPort | undefined;
    if (spec.app ?? true) {
      app = this.spawn(`${spec.name}/app`, spec.program ?? PROGRAMS.demoApp, [
        '--workload',
        spec.name,
        '--service',
        spec.service ?? spec.name,
        '--version',
        spec.version ?? 'v1',
        '--outbound',
        formatHostPort(outbound),
        ...(spec.calls ?? []).flatMap((host) => ['--call', host]),
        ...(spec.appArgs ?? []),
      ]);
      appAddress = await app.listening('app');
    }
    const workload: RunningWorkload = { spec, sidecar, app, outbound, inbound, admin, stats, health, appAddress };
    this.workloads.set(spec.name, workload);
    return workload;
  }

  /** The sidecar process of `spec` and the addresses it bound. */
  private async startSidecar(spec: WorkloadSpec): Promise<Pick<RunningWorkload, 'sidecar' | 'outbound' | 'inbound' | 'admin' | 'stats' | 'health'>> {
    if (!this.xds) throw new Error('start the control plane first');
    const namespace = spec.namespace ?? 'default';
    const identityArgs = this.identity
      ? ['--token-file', await this.identity.tokenFile(namespace, serviceAccountOf(spec)), '--ca-root-cert', this.identity.rootCertFile, '--cert-ttl', this.options.certTtl ?? '24h']
      : [];
    const sidecar = this.spawn(`${spec.name}/sidecar`, this.options.proxyProgram ?? PROGRAMS.proxy, [
      ...identityArgs,
      '--xds-address',
      formatHostPort(this.xds),
      '--workload',
      spec.name,
      '--namespace',
      namespace,
      ...EPHEMERAL_PROXY_LISTENERS,
      ...(spec.proxyArgs ?? []),
    ], { NODE_OPTIONS: [PROXY_NODE_OPTIONS, this.options.proxyNodeOptions ?? ''].join(' ').trim() });
    const [outbound, inbound, admin, stats, health] = (await Promise.all(['outbound', 'inbound', 'admin', 'stats', 'health'].map((listener) => sidecar.listening(listener)))) as [HostPort, HostPort, HostPort, HostPort, HostPort];
    return { sidecar, outbound, inbound, admin, stats, health };
  }

  /**
   * A new sidecar beside a workload's running application, as when only the sidecar container
   * restarts; the old one is left as it is (stop it yourself). Its document names the new
   * sidecar; the application keeps calling out through the old one's port.
   */
  async replaceSidecar(name: string): Promise<RunningWorkload> {
    const old = this.workload(name);
    const replacement: RunningWorkload = { ...old, ...(await this.startSidecar(old.spec)) };
    this.workloads.set(name, replacement);
    return replacement;
  }

  /** Stops a workload's application and sidecar together (SIGTERM, as a kubelet does) and forgets it. */
  async removeWorkload(name: string): Promise<void> {
    const { app, sidecar } = this.workload(name);
    await Promise.all([app?.stop(), sidecar.stop()]);
    this.workloads.delete(name);
    this.notReady.delete(name);
  }

  /** Whether the workload's document says ready (a kubelet's readiness, as the mesh file carries it). */
  setReady(name: string, ready = true): void {
    if (ready) this.notReady.delete(name);
    else this.notReady.add(name);
  }

  /** Resolves once the workload's sidecar holds its inbound listeners: it can take traffic. */
  async sidecarServing(name: string, timeoutMs = 15_000): Promise<void> {
    const admin = this.workload(name).admin;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dump = await request(`http://${formatHostPort(admin)}/config_dump`)
        .then((response) => response.body.json() as Promise<{ configs: { listener: { resources: Record<string, unknown> } } }>)
        .catch(() => undefined);
      if (dump && Object.keys(dump.configs.listener.resources).length > 0) return;
      if (Date.now() > deadline) throw new Error(`${name}: sidecar has no inbound listeners after ${timeoutMs}ms`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  workload(name: string): RunningWorkload {
    const workload = this.workloads.get(name);
    if (!workload) throw new Error(`no workload ${name}`);
    return workload;
  }

  /** Every workload's document, then `extra` (routing documents). */
  documents(extra: readonly MeshDocument[] = []): MeshDocument[] {
    return [...this.meshAuthentication(), ...[...this.workloads.values()].map((workload) => workloadDocument(workload, !this.notReady.has(workload.spec.name))), ...extra];
  }

  /** Replaces the mesh file atomically (write, then rename), as a careful operator would. */
  async writeMeshFile(documents: readonly MeshDocument[]): Promise<void> {
    await this.writeMeshText(toMeshFile(documents));
  }

  async writeMeshText(text: string): Promise<void> {
    const temporary = `${this.meshFile}.tmp`;
    await writeFile(temporary, text);
    await rename(temporary, this.meshFile);
  }

  async stop(): Promise<void> {
    const processes = [...this.workloads.values()].flatMap((workload) => [workload.app, workload.sidecar]);
    const running = [...processes, this.controlPlane].filter((managed) => managed !== undefined);
    await Promise.all(running.map((managed) => managed.stop()));
  }
}
