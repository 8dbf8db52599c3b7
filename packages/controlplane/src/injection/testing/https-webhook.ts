// A running injection webhook for tests: real HTTPS on loopback, serving a certificate issued
// by a fresh Weft CA for the webhook's Service name, and a client that trusts only that CA.
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { createRootCa, loadCa, type CertificateAuthority } from '@weft/ca';
import { createLogger } from '@weft/runtime';
import { resolveInjectionSettings, type InjectionSettings } from '../injection-settings.ts';
import { createInjectionWebhook, type InjectionWebhookServer } from '../webhook-server.ts';

export const WEBHOOK_SERVICE_NAME = 'weft-controlplane.weft-system.svc';

export interface WebhookResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** The serial number of the certificate the server presented. */
  readonly serverSerial: string;
}

export interface SendOptions {
  readonly method?: string;
  readonly path?: string;
  readonly contentType?: string;
  /** Sends the body chunked, without a content-length. */
  readonly chunked?: boolean;
}

export interface TestWebhook {
  readonly server: InjectionWebhookServer;
  readonly ca: CertificateAuthority;
  readonly settings: InjectionSettings;
  /** Sends `body` (JSON-encoded unless a string or Buffer) with `method` to `path`. */
  send(body: unknown, options?: SendOptions): Promise<WebhookResponse>;
  close(): Promise<void>;
}

export async function issueWebhookCertificate(ca: CertificateAuthority): Promise<{ key: string; chain: readonly string[]; serial: string }> {
  const issued = await ca.issue({ namespace: 'weft-system', serviceAccount: 'weft-controlplane' }, { dnsNames: [WEBHOOK_SERVICE_NAME] });
  return { key: issued.keyPem, chain: issued.chainPem, serial: issued.serialNumber };
}

export async function startTestWebhook(options: { settings?: Partial<InjectionSettings>; maxReviewBytes?: number } = {}): Promise<TestWebhook> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-injection-test-'));
  await createRootCa(join(dir, 'ca'));
  const ca = await loadCa(join(dir, 'ca'));
  const certificate = await issueWebhookCertificate(ca);
  const settings = resolveInjectionSettings(options.settings);
  const server = createInjectionWebhook({ settings, key: certificate.key, certificateChain: certificate.chain, log: createLogger('injection-test', 'silent'), maxReviewBytes: options.maxReviewBytes });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const roots = ca.trustBundle().join('\n');

  const send = (body: unknown, sendOptions: SendOptions = {}): Promise<WebhookResponse> =>
    new Promise((resolve, reject) => {
      const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const outgoing = request(
        // As the API server calls it: by the Service's DNS name (the certificate's SAN), verified against the CA bundle only.
        { host: '127.0.0.1', port, servername: WEBHOOK_SERVICE_NAME, ca: roots, agent: false, method: sendOptions.method ?? 'POST', path: sendOptions.path ?? '/inject?timeout=10s', headers: { 'content-type': sendOptions.contentType ?? 'application/json' } },
        (response) => {
          const serverSerial = (response.socket as TLSSocket).getPeerX509Certificate()?.serialNumber ?? '';
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8'), serverSerial }));
          response.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      if (sendOptions.method === 'GET') outgoing.end();
      else if (sendOptions.chunked) {
        // Small writes, so the server sees the body arrive in pieces.
        const bytes = Buffer.from(payload);
        for (let offset = 0; offset < bytes.length; offset += 16 * 1024) outgoing.write(bytes.subarray(offset, offset + 16 * 1024));
        outgoing.end();
      } else outgoing.end(payload);
    });

  return {
    server,
    ca,
    settings,
    send,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
