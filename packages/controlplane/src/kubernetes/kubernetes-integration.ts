// The control plane in a cluster (--registry kubernetes): the registry's watches, the CA from a
// Secret, TokenReview for the certificate service, and — on the leader only — CR status and the
// root certificate in meshed namespaces; on every replica, the injection webhook (15017) with a
// serving certificate from the CA and its CA bundle patched into the webhook configuration.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import type { CaSettings, CertificateAuthority } from '@weft/ca';
import { logListening, type HostPort, type Logger } from '@weft/runtime';
import type { Authenticator } from '../ca/authenticator.ts';
import { ServingIdentity } from '../ca/serving-identity.ts';
import { TokenReviewAuthenticator } from '../ca/token-review-authenticator.ts';
import { createInjectionWebhook, type InjectionWebhookServer } from '../injection/webhook-server.ts';
import type { InjectionSettings } from '../injection/injection-settings.ts';
import type { RegistryMetrics } from '../metrics/controlplane-metrics.ts';
import type { ModelSettings } from '../model/build-mesh-model.ts';
import { KubernetesRegistry } from '../registry/kubernetes/kubernetes-registry.ts';
import type { Backoff } from '../registry/kubernetes/resource-watch.ts';
import { describeError } from './api-errors.ts';
import { loadOrCreateCaSecret } from './ca-secret.ts';
import { LeaderElection } from './leader-election.ts';
import { RootCertPublisher } from './root-cert-publisher.ts';
import { StatusWriter } from './status-writer.ts';
import { patchWebhookCaBundle } from './webhook-ca-bundle.ts';

export interface KubernetesIntegrationOptions {
  readonly kubeConfig: KubeConfig;
  readonly log: Logger;
  /** Where this replica runs (the Lease and the CA Secret live here). */
  readonly namespace: string;
  /** This replica's name in the Lease. */
  readonly podName: string;
  /** The Secret holding the CA (cacerts layout); created with a new root when missing. */
  readonly caSecret: string | undefined;
  readonly caSettings: CaSettings;
  readonly webhook?: {
    readonly address: HostPort;
    /** MutatingWebhookConfiguration to patch the CA bundle into; none to leave it alone. */
    readonly configurationName: string | undefined;
    /** DNS names the API server calls the webhook by. */
    readonly dnsNames: readonly string[];
    readonly settings: InjectionSettings;
  };
  readonly modelSettings?: (ca: CertificateAuthority | undefined) => ModelSettings | undefined;
  readonly backoff?: Backoff;
  readonly lease?: { readonly name: string; readonly leaseMs?: number; readonly retryMs?: number };
  /** Periodic re-check of CR status and root-cert ConfigMaps; default 5 minutes. */
  readonly resyncMs?: number;
  readonly metrics?: RegistryMetrics;
}

export class KubernetesIntegration {
  readonly registry: KubernetesRegistry;
  readonly ca: CertificateAuthority | undefined;
  readonly authenticator: Authenticator;
  readonly election: LeaderElection;
  readonly statusWriter: StatusWriter;
  private readonly options: KubernetesIntegrationOptions;
  private readonly log: Logger;
  private readonly rootCert: RootCertPublisher | undefined;
  private webhookServer: InjectionWebhookServer | undefined;
  private webhookIdentity: ServingIdentity | undefined;
  private resync: NodeJS.Timeout | undefined;
  private caBundleRetry: NodeJS.Timeout | undefined;

  private constructor(options: KubernetesIntegrationOptions, ca: CertificateAuthority | undefined) {
    this.options = options;
    this.ca = ca;
    const { kubeConfig } = options;
    this.log = options.log.child({ module: 'kubernetes' });
    this.registry = new KubernetesRegistry({ kubeConfig, log: options.log, settings: options.modelSettings?.(ca), backoff: options.backoff, resyncMs: options.resyncMs, metrics: options.metrics });
    this.authenticator = new TokenReviewAuthenticator(kubeConfig);
    const enabled = (): boolean => this.election.isLeader();
    this.statusWriter = new StatusWriter({ kubeConfig, log: options.log, enabled });
    this.rootCert = ca && new RootCertPublisher({ kubeConfig, log: options.log, rootsPem: ca.trustBundle(), enabled });
    this.election = new LeaderElection({
      kubeConfig,
      namespace: options.namespace,
      name: options.lease?.name ?? 'weft-controlplane',
      identity: options.podName,
      log: options.log,
      leaseMs: options.lease?.leaseMs,
      retryMs: options.lease?.retryMs,
      onChange: (leader) => {
        if (leader) this.reconcile(true);
      },
    });
  }

  /** Loads (or creates) the CA from its Secret first: the registry's settings depend on its trust domain. */
  static async create(options: KubernetesIntegrationOptions): Promise<KubernetesIntegration> {
    const ca = options.caSecret ? await loadOrCreateCaSecret({ kubeConfig: options.kubeConfig, namespace: options.namespace, name: options.caSecret, settings: options.caSettings, log: options.log }) : undefined;
    return new KubernetesIntegration(options, ca);
  }

  /** After the registry has started (the control plane starts it): elections, status, root certs, webhook. */
  async start(): Promise<{ webhook: HostPort | undefined }> {
    this.registry.onJudged((resources) => this.statusWriter.reconcile(resources));
    this.registry.onNamespaces(() => this.rootCert?.sync(this.registry.namespaces()));
    this.election.start();
    this.resync = setInterval(() => this.reconcile(true), this.options.resyncMs ?? 300_000);
    this.resync.unref();
    return { webhook: await this.startWebhook() };
  }

  async stop(): Promise<void> {
    clearInterval(this.resync);
    clearTimeout(this.caBundleRetry);
    this.webhookIdentity?.stop();
    this.webhookServer?.close();
    this.webhookServer?.closeAllConnections();
    await this.election.stop();
  }

  private reconcile(recheck: boolean): void {
    this.statusWriter.reconcile(this.registry.judgedResources());
    this.rootCert?.sync(this.registry.namespaces(), recheck);
  }

  private async startWebhook(): Promise<HostPort | undefined> {
    const webhook = this.options.webhook;
    if (!webhook) return undefined;
    if (!this.ca) throw new Error('the injection webhook needs the CA (--ca-secret) for its serving certificate');
    const ca = this.ca;
    const identity = new ServingIdentity({ ca, log: this.log, dnsNames: webhook.dnsNames });
    this.webhookIdentity = identity;
    const first = new Promise<{ keyPem: string; chainPem: readonly string[] }>((resolve) => identity.onIssued(resolve));
    await identity.start();
    const { keyPem, chainPem } = await first;
    const server = createInjectionWebhook({ settings: webhook.settings, key: keyPem, certificateChain: chainPem, log: this.log.child({ module: 'injection' }) });
    identity.onIssued((issued) => server.setCertificate(issued.keyPem, issued.chainPem));
    this.webhookServer = server;
    server.listen(webhook.address.port, webhook.address.host);
    await once(server, 'listening');
    const bound = { host: webhook.address.host, port: (server.address() as AddressInfo).port };
    logListening(this.log, 'webhook', bound);
    if (webhook.configurationName) this.patchCaBundle(webhook.configurationName, 1000);
    return bound;
  }

  /** Until it succeeds: the configuration may be applied after the control plane starts. */
  private patchCaBundle(name: string, retryMs: number): void {
    patchWebhookCaBundle({ kubeConfig: this.options.kubeConfig, name, rootsPem: (this.ca as CertificateAuthority).trustBundle(), log: this.log }).catch((error: unknown) => {
      this.log.warn({ webhookConfiguration: name, error: describeError(error), retryInMs: retryMs }, 'could not patch the CA bundle into the webhook configuration');
      this.caBundleRetry = setTimeout(() => this.patchCaBundle(name, Math.min(retryMs * 2, 60_000)), retryMs);
      this.caBundleRetry.unref();
    });
  }
}
