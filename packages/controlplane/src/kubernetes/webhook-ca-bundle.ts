// Puts the CA that signs the injection webhook's serving certificate into the
// MutatingWebhookConfiguration's clientConfig.caBundle, so the API server trusts the webhook.
// The manifest leaves caBundle out on purpose; every replica writes the same value at start
// (JSON patch `add` sets it whether or not it is there), and a value already in place is left.
import { AdmissionregistrationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export async function patchWebhookCaBundle(options: { kubeConfig: KubeConfig; name: string; rootsPem: readonly string[]; log: Logger }): Promise<void> {
  const api = options.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const caBundle = Buffer.from(options.rootsPem.join('\n')).toString('base64');
  const config = await api.readMutatingWebhookConfiguration({ name: options.name });
  const patch = (config.webhooks ?? []).flatMap((webhook, index) =>
    webhook.clientConfig.caBundle === caBundle ? [] : [{ op: 'add', path: `/webhooks/${index}/clientConfig/caBundle`, value: caBundle }],
  );
  if (patch.length === 0) return;
  await api.patchMutatingWebhookConfiguration({ name: options.name, body: patch });
  options.log.info({ webhookConfiguration: options.name, webhooks: patch.length }, 'CA bundle patched into the injection webhook configuration');
}
