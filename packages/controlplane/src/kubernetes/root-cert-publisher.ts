// Publishes the mesh's root certificates as the ConfigMap weft-root-cert into every namespace
// labelled weft-injection=enabled. Injected proxies mount it to verify the control plane before
// they hold a certificate of their own (after that the xDS trust bundle takes over). Runs on the
// leader only; a ConfigMap that already says the same is left alone.
import { CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Namespace } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { describeError, statusCode } from './api-errors.ts';

export const ROOT_CERT_CONFIG_MAP = 'weft-root-cert';
export const ROOT_CERT_KEY = 'root-cert.pem';
export const INJECTION_LABEL = 'weft-injection';

export function isMeshedNamespace(namespace: V1Namespace): boolean {
  return namespace.metadata?.labels?.[INJECTION_LABEL] === 'enabled' && namespace.status?.phase !== 'Terminating';
}

export class RootCertPublisher {
  private readonly api: CoreV1Api;
  private readonly log: Logger;
  private readonly rootsPem: string;
  private readonly enabled: () => boolean;
  /** Namespaces known to hold the current roots. */
  private readonly published = new Set<string>();
  private queue: Promise<void> = Promise.resolve();

  constructor(options: { kubeConfig: KubeConfig; log: Logger; rootsPem: readonly string[]; enabled: () => boolean }) {
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.log = options.log.child({ module: 'root-cert' });
    this.rootsPem = options.rootsPem.join('\n');
    this.enabled = options.enabled;
  }

  /** Brings every meshed namespace's ConfigMap up to date; `recheck` forgets what was published (a resync). */
  sync(namespaces: readonly V1Namespace[], recheck = false): void {
    if (!this.enabled()) return;
    if (recheck) this.published.clear();
    const meshed = new Set(namespaces.filter(isMeshedNamespace).flatMap((namespace) => namespace.metadata?.name ?? []));
    for (const name of this.published) if (!meshed.has(name)) this.published.delete(name);
    for (const name of meshed) {
      if (this.published.has(name)) continue;
      this.published.add(name);
      this.queue = this.queue.then(() => this.publish(name));
    }
  }

  idle(): Promise<void> {
    return this.queue;
  }

  private async publish(namespace: string): Promise<void> {
    const data = { [ROOT_CERT_KEY]: this.rootsPem };
    try {
      let existing: V1ConfigMap | undefined;
      try {
        existing = await this.api.readNamespacedConfigMap({ name: ROOT_CERT_CONFIG_MAP, namespace });
      } catch (error) {
        if (statusCode(error) !== 404) throw error;
      }
      if (existing?.data?.[ROOT_CERT_KEY] === this.rootsPem) return;
      const body: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...(existing?.metadata ?? {}), name: ROOT_CERT_CONFIG_MAP, namespace, labels: { ...(existing?.metadata?.labels ?? {}), 'app.kubernetes.io/part-of': 'weft' } }, data };
      if (existing) await this.api.replaceNamespacedConfigMap({ name: ROOT_CERT_CONFIG_MAP, namespace, body });
      else await this.api.createNamespacedConfigMap({ namespace, body });
      this.log.info({ namespace }, 'root certificate published');
    } catch (error) {
      this.published.delete(namespace);
      this.log.warn({ namespace, error: describeError(error) }, 'could not publish the root certificate; retried on the next change or resync');
    }
  }
}
