// The control plane's debug endpoint (15014) as the CLI reads it: /ready, /debug/syncz and
// /debug/ca. In a cluster the operator forwards it:
//   kubectl -n weft-system port-forward deploy/weft-controlplane 15014
import type { CaStatus, ProxyStatus } from '@weft/controlplane';
import { getJson, parseBaseUrl, type JsonResponse } from './http-json.ts';

export const DEFAULT_CONTROLPLANE = 'http://127.0.0.1:15014';

export const CONTROLPLANE_FLAG_HELP = `--controlplane URL  the control plane's debug endpoint (env WEFT_CONTROLPLANE; default ${DEFAULT_CONTROLPLANE});
                      in a cluster: kubectl -n weft-system port-forward deploy/weft-controlplane 15014`;

export interface Syncz {
  /** The control plane's clock when it answered. */
  readonly now: string;
  readonly proxies: readonly ProxyStatus[];
}

export class ControlPlaneDebug {
  readonly url: URL;

  constructor(url: URL) {
    this.url = url;
  }

  /** From --controlplane, else WEFT_CONTROLPLANE, else the default. */
  static fromFlag(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ControlPlaneDebug {
    const value = flag ?? env.WEFT_CONTROLPLANE ?? DEFAULT_CONTROLPLANE;
    return new ControlPlaneDebug(parseBaseUrl(value, flag === undefined && env.WEFT_CONTROLPLANE !== undefined ? 'WEFT_CONTROLPLANE' : '--controlplane'));
  }

  /** 200 when ready, 503 while the first registry sync runs. */
  ready(): Promise<JsonResponse> {
    return this.get('/ready');
  }

  async syncz(): Promise<Syncz> {
    const { status, body } = await this.get('/debug/syncz');
    const syncz = body as Partial<Syncz> | null;
    if (status !== 200 || !Array.isArray(syncz?.proxies) || typeof syncz.now !== 'string') throw this.unexpected('/debug/syncz', status);
    return syncz as Syncz;
  }

  /** The CA's view; undefined when the control plane runs without a CA. */
  async ca(): Promise<CaStatus | undefined> {
    const { status, body } = await this.get('/debug/ca');
    if (status === 404) return undefined;
    const ca = body as Partial<CaStatus> | null;
    if (status !== 200 || !Array.isArray(ca?.roots) || !Array.isArray(ca.certificates)) throw this.unexpected('/debug/ca', status);
    return ca as CaStatus;
  }

  private get(path: string): Promise<JsonResponse> {
    return getJson(new URL(path, this.url), 'the control plane');
  }

  private unexpected(path: string, status: number): Error {
    return new Error(`the control plane at ${this.url.origin} answered ${path} with status ${status} and an unexpected body (is it a Weft control plane of this version?)`);
  }
}
