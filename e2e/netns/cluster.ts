// A Kubernetes-shaped cluster made of network namespaces, for the netns scenarios. Everything
// lives in namespaces this harness creates (198.18.0.0/15, reserved for benchmarking):
//
//   node     a bridge (198.18.0.1/16) every pod hangs off; IP forwarding and the Service DNAT
//            (a tiny kube-proxy, for callers without a sidecar) are enabled here only; the control
//            plane runs here, reading the Kubernetes API test double through a Unix-socket relay
//   pod-*    one namespace per pod (198.18.1.x): its app, weft-init's capture rules, and the
//            sidecar as UID 1337; /etc/netns/<pod>/hosts resolves Service names to ClusterIPs
//            (198.19.0.x)
//
// The harness plays kubelet and endpoint controller: it publishes Pods and EndpointSlices to the
// API double as pods start, become ready and terminate. stop() removes every namespace, link,
// rule, file and process it created, also after a failed test.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync, mkdirSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { ManagedProcess, PROGRAMS } from '@weft/cli';
import { pollUntil } from '@weft/runtime';
import { KubeApiDouble, type KubeObject } from '../../packages/controlplane/test/kube-api-double.ts';
import { NamespaceSet, removeStaleNamespaces } from './namespaces.ts';

const WEFT_INIT = fileURLToPath(import.meta.resolve('@weft/init/main'));
const RELAY = fileURLToPath(new URL('./unix-relay.ts', import.meta.url));
export const LOAD = fileURLToPath(new URL('./load.ts', import.meta.url));
const NODE_ADDRESS = '198.18.0.1';
/** Locally administered (02:...), fixed: see startNode. */
const NODE_BRIDGE_MAC = '02:57:45:46:54:01';
const CONTROL_PLANE = `${NODE_ADDRESS}:15012`;
/** WEFT_TEST_LOG_DIR=DIR keeps every harness process's output, at debug level, in DIR/<process>.log. */
const LOG_DIR = process.env.WEFT_TEST_LOG_DIR;

/** Where a process's output goes besides the supervisor's own ring of lines. */
function kept(name: string, env: NodeJS.ProcessEnv = {}): { echo?: (line: string) => void; env: NodeJS.ProcessEnv } {
  if (!LOG_DIR) return { env };
  mkdirSync(LOG_DIR, { recursive: true });
  const file = join(LOG_DIR, `${name.replaceAll('/', '-')}.log`);
  return { echo: (line) => appendFileSync(file, `${new Date().toISOString()} ${line}\n`), env: { ...env, WEFT_LOG_LEVEL: 'debug' } };
}
const PROXY_UID = 1337;

export interface ServicePortSpec {
  readonly name: string;
  readonly port: number;
  readonly targetPort: number;
  readonly appProtocol?: string;
}

export interface ServiceSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly ports: readonly ServicePortSpec[];
}

export interface PodSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly serviceAccount?: string;
  /** Default true: weft-init and the proxy run in the pod. */
  readonly sidecar?: boolean;
  /** The application: a program that takes --listen HOST:PORT and logs `listening`. None for a client-only pod. */
  readonly app?: { readonly program: string; readonly args?: readonly string[]; readonly port: number };
  readonly outboundTrafficPolicy?: 'ALLOW_ANY' | 'REGISTRY_ONLY';
}

interface Pod {
  readonly spec: PodSpec;
  readonly namespace: string;
  readonly netns: string;
  readonly address: string;
  readonly processes: { app?: ManagedProcess; sidecar?: ManagedProcess };
  state: 'ready' | 'terminating';
}

interface Service {
  readonly spec: ServiceSpec;
  readonly namespace: string;
  readonly address: string;
}

export interface LoadSummary {
  readonly sent: number;
  readonly ok: number;
  readonly statuses: Record<string, number>;
  readonly errors: Record<string, number>;
  readonly by: Record<string, number>;
  /** Answers a proxy made itself, by status and response flag ("503 NCFG"). */
  readonly proxyAnswers: Record<string, number>;
  /** Milliseconds from the first request to the first and the last failure (HTTP runs). */
  readonly failuresAtMs?: { first: number; last: number };
}

export class NetnsCluster {
  readonly api: KubeApiDouble;
  private readonly namespaces = new NamespaceSet();
  private readonly pods = new Map<string, Pod>();
  private readonly services = new Map<string, Service>();
  private readonly dir: string;
  private readonly relayServer: Server;
  private nodeNetns = '';
  private relay: ManagedProcess | undefined;
  controlPlane: ManagedProcess | undefined;
  private nextPod = 10;
  private nextService = 10;

  private constructor(api: KubeApiDouble, dir: string, relayServer: Server) {
    this.api = api;
    this.dir = dir;
    this.relayServer = relayServer;
  }

  static async start(): Promise<NetnsCluster> {
    await removeStaleNamespaces();
    const api = await KubeApiDouble.start({ bookmarkIntervalMs: 1000 });
    const dir = await mkdtemp(join(tmpdir(), 'weft-netns-'));
    await chmod(dir, 0o755); // the proxy (UID 1337) reads its token and root certificate here
    // The API double listens on the host's loopback; the node namespace reaches it through this socket.
    const apiPort = Number(new URL(api.url).port);
    const relayServer = createServer((socket) => {
      const upstream = connect(apiPort, '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      const close = (): void => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    relayServer.listen(join(dir, 'api.sock'));
    await once(relayServer, 'listening');
    const cluster = new NetnsCluster(api, dir, relayServer);
    try {
      await cluster.startNode();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  private async startNode(): Promise<void> {
    const node = await this.namespaces.add('node');
    this.nodeNetns = node;
    const exec = (command: string, ...args: string[]) => this.namespaces.exec(node, command, args);
    await exec('ip', 'link', 'add', 'br0', 'type', 'bridge');
    // A bridge without an address of its own takes the lowest of its ports' and changes it as pods
    // join: every pod's ARP entry for the node (the control plane) then points nowhere until it
    // is re-resolved, and the xDS streams stall for seconds. CNI bridge plugins pin it too.
    await exec('ip', 'link', 'set', 'br0', 'address', NODE_BRIDGE_MAC);
    await exec('ip', 'addr', 'add', `${NODE_ADDRESS}/16`, 'dev', 'br0');
    await exec('ip', 'link', 'set', 'br0', 'up');
    await exec('sysctl', '-qw', 'net.ipv4.ip_forward=1');
    // Replies to DNATed connections must come back through the node (hairpin), as kube-proxy arranges.
    await exec('iptables', '-t', 'nat', '-N', 'WEFT_SERVICES');
    await exec('iptables', '-t', 'nat', '-A', 'PREROUTING', '-j', 'WEFT_SERVICES');
    await exec('iptables', '-t', 'nat', '-A', 'POSTROUTING', '-m', 'conntrack', '--ctstate', 'DNAT', '-j', 'MASQUERADE');

    this.relay = new ManagedProcess('api-relay', RELAY, ['tcp-to-unix', '127.0.0.1:6443', join(this.dir, 'api.sock')], { prefix: ['ip', 'netns', 'exec', node] });
    await this.relay.listening('relay');
    const kubeconfig = join(this.dir, 'kubeconfig');
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'double', server: 'http://127.0.0.1:6443', skipTLSVerify: true }],
      users: [{ name: 'controlplane', token: 'netns-controlplane' }],
      contexts: [{ name: 'double', cluster: 'double', user: 'controlplane' }],
      currentContext: 'double',
    });
    await writeFile(kubeconfig, config.exportConfig());
    for (const name of ['default', 'weft-system']) this.api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: name === 'default' ? { 'weft-injection': 'enabled' } : {} } });
    await this.startControlPlane();
  }

  async startControlPlane(): Promise<void> {
    this.controlPlane = new ManagedProcess(
      'controlplane',
      PROGRAMS.controlPlane,
      ['--registry', 'kubernetes', '--ca-secret', 'weft-ca', '--xds-address', 'off', '--secure-address', CONTROL_PLANE, '--debug-address', '127.0.0.1:15014'],
      { prefix: ['ip', 'netns', 'exec', this.nodeNetns], ...kept('controlplane', { KUBECONFIG: join(this.dir, 'kubeconfig'), POD_NAMESPACE: 'weft-system', POD_NAME: 'weft-controlplane-0', WEFT_LOG_LEVEL: 'info' }) },
    );
    await this.controlPlane.listening('secure');
  }

  async killControlPlane(): Promise<void> {
    await this.controlPlane?.kill();
    this.controlPlane = undefined;
  }

  private rootCertificate(): string {
    const secret = this.api.get('v1', 'Secret', 'weft-system', 'weft-ca') as { data?: Record<string, string> } | undefined;
    const root = secret?.data?.['root-cert.pem'];
    if (!root) throw new Error('the control plane has not created its CA Secret');
    return Buffer.from(root, 'base64').toString();
  }

  /** Creates a Service with a ClusterIP, and its DNS name in every pod. */
  async addService(spec: ServiceSpec): Promise<string> {
    const namespace = spec.namespace ?? 'default';
    const address = `198.19.0.${this.nextService++}`;
    this.services.set(`${namespace}/${spec.name}`, { spec, namespace, address });
    this.api.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: spec.name, namespace },
      spec: { clusterIP: address, clusterIPs: [address], selector: spec.selector, ports: spec.ports.map((port) => ({ ...port, protocol: 'TCP' })) },
    });
    this.writeHostsFiles();
    await this.publishEndpoints();
    return address;
  }

  private writeHostsFiles(): void {
    const entries = [...this.services.values()].map(({ spec, namespace, address }): [string, string] => [address, `${spec.name}.${namespace}.svc.cluster.local ${spec.name}.${namespace}.svc ${spec.name}.${namespace}${namespace === 'default' ? ` ${spec.name}` : ''}`]);
    for (const pod of this.pods.values()) this.namespaces.writeHosts(pod.netns, entries);
  }

  /** Starts a pod: namespace, address, capture, sidecar, app; resolves once it is ready (as its readiness probe would say). */
  async addPod(spec: PodSpec): Promise<void> {
    const namespace = spec.namespace ?? 'default';
    const index = this.nextPod++;
    const netns = await this.namespaces.add(`p${index}`);
    const address = `198.18.1.${index}`;
    const link = await this.namespaces.veth(netns, this.nodeNetns);
    const inPod = (command: string, ...args: string[]) => this.namespaces.exec(netns, command, args);
    await inPod('ip', 'link', 'set', link.a, 'name', 'eth0');
    await inPod('ip', 'addr', 'add', `${address}/16`, 'dev', 'eth0');
    await inPod('ip', 'link', 'set', 'eth0', 'up');
    await inPod('ip', 'route', 'add', 'default', 'via', NODE_ADDRESS);
    await this.namespaces.exec(this.nodeNetns, 'ip', ['link', 'set', link.b, 'master', 'br0', 'up']);
    const pod: Pod = { spec, namespace, netns, address, processes: {}, state: 'ready' };
    this.pods.set(`${namespace}/${spec.name}`, pod);
    this.writeHostsFiles();
    const sidecar = spec.sidecar ?? true;
    this.api.apply(this.podObject(pod, sidecar, false));

    if (sidecar) {
      await inPod(process.execPath, WEFT_INIT, '--exclude-inbound-ports', '15021,15090');
      const token = randomBytes(24).toString('base64url');
      this.api.registerToken(token, { namespace, serviceAccount: spec.serviceAccount ?? 'default', audiences: ['weft-ca'], podName: spec.name });
      const tokenFile = join(this.dir, `${spec.name}.token`);
      const rootFile = join(this.dir, 'root-cert.pem');
      await writeFile(tokenFile, token, { mode: 0o644 });
      await writeFile(rootFile, this.rootCertificate(), { mode: 0o644 });
      pod.processes.sidecar = new ManagedProcess(
        `${spec.name}/sidecar`,
        PROGRAMS.proxy,
        ['--xds-address', CONTROL_PLANE, '--workload', spec.name, '--namespace', namespace, '--token-file', tokenFile, '--ca-root-cert', rootFile, '--outbound-traffic-policy', spec.outboundTrafficPolicy ?? 'ALLOW_ANY'],
        { ...kept(`${spec.name}/sidecar`), prefix: ['ip', 'netns', 'exec', netns, 'setpriv', `--reuid=${PROXY_UID}`, `--regid=${PROXY_UID}`, '--clear-groups'] },
      );
    }
    if (spec.app) {
      pod.processes.app = new ManagedProcess(`${spec.name}/app`, spec.app.program, [...(spec.app.args ?? []), '--listen', `0.0.0.0:${spec.app.port}`], { prefix: ['ip', 'netns', 'exec', netns] });
      await pod.processes.app.listening('app');
    }
    if (sidecar) await pollUntil(`${spec.name}'s sidecar to be ready`, 20_000, async () => ((await this.curl(spec.name, 'http://127.0.0.1:15021/healthz/ready', namespace)).includes('"ready": true') ? true : undefined), 100);
    this.api.apply(this.podObject(pod, sidecar, true));
    await this.publishEndpoints();
  }

  private podObject(pod: Pod, sidecar: boolean, ready: boolean): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod.spec.name, namespace: pod.namespace, labels: { ...(pod.spec.labels ?? {}) } },
      spec: {
        serviceAccountName: pod.spec.serviceAccount ?? 'default',
        initContainers: sidecar ? [{ name: 'weft-proxy', image: 'weft', restartPolicy: 'Always' }] : [],
        containers: [{ name: 'app', image: 'app' }],
      },
      status: { phase: 'Running', podIP: pod.address, podIPs: [{ ip: pod.address }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    };
  }

  /**
   * Deletes a pod gracefully, as Kubernetes does: its endpoints turn terminating (not ready, still
   * serving) and proxies stop choosing it; after `drainMs` its processes stop and it is gone.
   */
  async deletePod(name: string, drainMs: number, namespace = 'default'): Promise<void> {
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod) throw new Error(`no pod ${namespace}/${name}`);
    pod.state = 'terminating';
    await this.publishEndpoints();
    await new Promise((resolve) => setTimeout(resolve, drainMs));
    await Promise.all([pod.processes.app?.stop(), pod.processes.sidecar?.stop()]);
    this.pods.delete(`${namespace}/${name}`);
    this.api.delete('v1', 'Pod', namespace, name);
    await this.publishEndpoints();
  }

  /** The endpoint controller and kube-proxy: EndpointSlices for every Service, and DNAT rules for its ClusterIP. */
  private async publishEndpoints(): Promise<void> {
    const rules: string[] = [];
    for (const service of this.services.values()) {
      const members = [...this.pods.values()].filter((pod) => pod.namespace === service.namespace && Object.entries(service.spec.selector).every(([key, value]) => pod.spec.labels?.[key] === value));
      this.api.apply({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${service.spec.name}-slice`, namespace: service.namespace, labels: { 'kubernetes.io/service-name': service.spec.name } },
        addressType: 'IPv4',
        endpoints: members.map((pod) => ({
          addresses: [pod.address],
          conditions: { ready: pod.state === 'ready', serving: true, terminating: pod.state === 'terminating' },
          targetRef: { kind: 'Pod', name: pod.spec.name, namespace: pod.namespace },
        })),
        ports: service.spec.ports.map((port) => ({ name: port.name, port: port.targetPort, protocol: 'TCP', appProtocol: port.appProtocol })),
      });
      const ready = members.filter((pod) => pod.state === 'ready');
      for (const port of service.spec.ports) {
        ready.forEach((pod, index) => {
          const pick = index === ready.length - 1 ? [] : ['-m', 'statistic', '--mode', 'random', '--probability', (1 / (ready.length - index)).toFixed(4)];
          rules.push(['-A', 'WEFT_SERVICES', '-d', `${service.address}/32`, '-p', 'tcp', '--dport', String(port.port), ...pick, '-j', 'DNAT', '--to-destination', `${pod.address}:${port.targetPort}`].join(' '));
        });
      }
    }
    await this.namespaces.exec(this.nodeNetns, 'iptables', ['-t', 'nat', '-F', 'WEFT_SERVICES']);
    for (const rule of rules) await this.namespaces.exec(this.nodeNetns, 'iptables', ['-t', 'nat', ...rule.split(' ')]);
  }

  /** GET `url` from inside a pod (as its application would), with curl; the body, or "" on failure. */
  async curl(podName: string, url: string, namespace = 'default'): Promise<string> {
    const pod = this.pods.get(`${namespace}/${podName}`);
    if (!pod) throw new Error(`no pod ${namespace}/${podName}`);
    return this.namespaces.exec(pod.netns, 'curl', ['-s', '--max-time', '5', url]).catch(() => '');
  }

  /** The sidecar's configuration as its admin port shows it. */
  async configDump(podName: string, namespace = 'default'): Promise<{ configs: Record<string, { resources: Record<string, { config: unknown }> }> }> {
    return JSON.parse(await this.curl(podName, 'http://127.0.0.1:15000/config_dump', namespace)) as never;
  }

  /** Runs load.ts inside a pod, as its application, and returns its summary. */
  async load(podName: string, args: readonly string[], namespace = 'default'): Promise<LoadSummary> {
    const running = this.startLoad(podName, args, namespace);
    return running.summary;
  }

  /** load.ts in the background: stop() ends a --duration-ms run early; summary resolves when it exits. */
  startLoad(podName: string, args: readonly string[], namespace = 'default'): { summary: Promise<LoadSummary>; stop: () => void } {
    const pod = this.pods.get(`${namespace}/${podName}`);
    if (!pod) throw new Error(`no pod ${namespace}/${podName}`);
    const run = new ManagedProcess(`${podName}/load`, LOAD, args, { prefix: ['ip', 'netns', 'exec', pod.netns] });
    const summary = run.waitForLog((record) => record.msg === 'summary', 120_000, 'the load summary').then((record) => record as unknown as LoadSummary);
    return { summary, stop: () => run.child.kill('SIGTERM') };
  }

  /** Calls the demo app's control endpoint of a pod's app directly (inside the pod, past the sidecar). */
  async behave(podName: string, query: string, namespace = 'default'): Promise<void> {
    const pod = this.pods.get(`${namespace}/${podName}`);
    const port = pod?.spec.app?.port;
    if (!port) throw new Error(`${podName} has no app`);
    await this.curl(podName, `http://127.0.0.1:${port}/__behave?${query}`, namespace);
  }

  podAddress(name: string, namespace = 'default'): string {
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod) throw new Error(`no pod ${namespace}/${name}`);
    return pod.address;
  }

  async stop(): Promise<void> {
    const processes = [...this.pods.values()].flatMap((pod) => [pod.processes.app, pod.processes.sidecar]);
    await Promise.all([...processes, this.controlPlane, this.relay].flatMap((managed) => (managed ? [managed.stop()] : [])));
    await this.namespaces.removeAll();
    this.relayServer.close();
    await this.api.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
