// Finding and reading one proxy's admin endpoint. The proxy tells the control plane where its
// admin endpoint is bound (xDS node admin_address), which works on one machine (file mode);
// that address is local to the proxy's host or pod, so in a cluster the operator forwards it
// (kubectl port-forward pod/NAME 15000) and passes --admin.
import type { ProxyStatus } from '@weft/controlplane';
import type { ControlPlaneDebug } from '../status/controlplane-debug.ts';
import { getJson, parseBaseUrl, UnreachableError } from '../status/http-json.ts';
import type { ClustersJson, ConfigDump } from './admin-json.ts';

/** The proxy named `name`: its id ("workload.namespace", as proxy-status shows it), or a workload name only one proxy has. */
export function findProxy(proxies: readonly ProxyStatus[], name: string): ProxyStatus {
  const exact = proxies.find((proxy) => proxy.id === name);
  if (exact) return exact;
  const byWorkload = proxies.filter((proxy) => proxy.workload === name);
  if (byWorkload.length === 1) return byWorkload[0] as ProxyStatus;
  const known = proxies.map((proxy) => proxy.id).join(', ') || 'none';
  if (byWorkload.length > 1) throw new Error(`"${name}" names ${byWorkload.length} proxies (${byWorkload.map((proxy) => proxy.id).join(', ')}): give workload.namespace`);
  throw new Error(`no proxy "${name}" is connected to the control plane (connected: ${known})`);
}

export class ProxyAdmin {
  readonly url: URL;
  /** Who we expect to find there ("workload.namespace"), when known. */
  private readonly expected: string | undefined;
  private readonly hint: string;

  private constructor(url: URL, expected: string | undefined, hint: string) {
    this.url = url;
    this.expected = expected;
    this.hint = hint;
  }

  /** --admin given: that endpoint, which must serve `name` when one is given. */
  static at(admin: string, name: string | undefined): ProxyAdmin {
    return new ProxyAdmin(parseBaseUrl(admin, '--admin'), name, '');
  }

  /** The admin address `name` reported to the control plane. */
  static async locate(name: string, controlPlane: ControlPlaneDebug): Promise<ProxyAdmin> {
    const proxy = findProxy((await controlPlane.syncz()).proxies, name);
    const hint = `; it listens on the proxy's own host: in a cluster run kubectl -n ${proxy.namespace} port-forward pod/POD 15000 and pass --admin http://127.0.0.1:15000`;
    if (!proxy.adminAddress) throw new Error(`${proxy.id} did not report its admin address (a proxy older than this CLI?)${hint}`);
    return new ProxyAdmin(parseBaseUrl(proxy.adminAddress, `${proxy.id}'s admin address`), proxy.id, hint);
  }

  async configDump(): Promise<ConfigDump> {
    const dump = (await this.get('/config_dump')) as ConfigDump;
    const serves = `${dump.node.workload}.${dump.node.namespace}`;
    // With a forwarded port it is easy to reach another pod than the one meant.
    if (this.expected !== undefined && serves !== this.expected && dump.node.workload !== this.expected) {
      throw new Error(`the admin endpoint at ${this.url.origin} belongs to ${serves}, not ${this.expected}`);
    }
    return dump;
  }

  async clusters(): Promise<ClustersJson> {
    await this.configDump(); // the same check of whose endpoint this is
    return (await this.get('/clusters')) as ClustersJson;
  }

  private async get(path: string): Promise<unknown> {
    const what = `the admin endpoint of ${this.expected ?? 'the proxy'}`;
    try {
      const { status, body } = await getJson(new URL(path, this.url), what);
      if (status !== 200) throw new Error(`${what} at ${this.url.origin} answered ${path} with status ${status}`);
      return body;
    } catch (error) {
      if (error instanceof UnreachableError) throw new UnreachableError(`${error.message}${this.hint}`);
      throw error;
    }
  }
}
