// The injection webhook's HTTPS server (15017 in the cluster): POST /inject with an
// AdmissionReview v1, nothing else. It serves a certificate the control plane issues from its
// own CA (whose root goes into the webhook configuration's caBundle), replaceable while
// running so renewals need no restart.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@weft/runtime';
import { MalformedReviewError, reviewAdmission } from './admission-review.ts';
import type { InjectionSettings } from './injection-settings.ts';

export const INJECTION_PATH = '/inject';
/**
 * An AdmissionReview carries the pod (etcd stores objects up to 1.5 MiB) and, for updates,
 * its old version; 4 MiB is above anything the API server sends and bounds what a stray
 * client can make us buffer.
 */
export const DEFAULT_MAX_REVIEW_BYTES = 4 * 1024 * 1024;
// The API server gives up on a webhook after its timeoutSeconds (10 s by default, 30 s at most).
const REQUEST_TIMEOUT_MS = 30_000;

export interface InjectionWebhookOptions {
  readonly settings: InjectionSettings;
  /** PEM private key of the serving certificate. */
  readonly key: string;
  /** PEM serving certificate, then intermediates (one string, or one per certificate). */
  readonly certificateChain: string | readonly string[];
  readonly log: Logger;
  readonly maxReviewBytes?: number;
}

export interface InjectionWebhookServer extends Server {
  /** Serves `key` and `certificateChain` from the next TLS handshake on (renewal); open connections keep theirs. */
  setCertificate(key: string, certificateChain: string | readonly string[]): void;
}

function pem(chain: string | readonly string[]): string {
  return typeof chain === 'string' ? chain : chain.join('\n');
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** The request body, or undefined when it is larger than `limit` (the rest is left unread). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(request.headers['content-length'] ?? 0) > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        request.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

async function handleReview(request: IncomingMessage, response: ServerResponse, options: InjectionWebhookOptions): Promise<void> {
  const limit = options.maxReviewBytes ?? DEFAULT_MAX_REVIEW_BYTES;
  const body = await readBody(request, limit);
  if (body === undefined) {
    // The unread remainder makes the connection unusable: close it after answering.
    sendJson(response, 413, { error: `AdmissionReview larger than ${limit} bytes` }, { connection: 'close' });
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    sendJson(response, 400, { error: `malformed AdmissionReview: the body is not JSON (${(error as Error).message})` });
    return;
  }
  try {
    const result = reviewAdmission(parsed, options.settings);
    const fields = { uid: result.review.response.uid, pod: result.pod, outcome: result.outcome, reason: result.reason };
    if (result.outcome === 'not-injectable') options.log.warn(fields, 'pod admitted without a sidecar: it cannot be injected');
    else if (result.outcome === 'not-a-pod-creation') options.log.debug(fields, 'admission review ignored');
    else options.log.info(fields, result.outcome === 'injected' ? 'sidecar injected' : 'sidecar not injected');
    sendJson(response, 200, result.review);
  } catch (error) {
    if (error instanceof MalformedReviewError) {
      sendJson(response, 400, { error: error.message });
      return;
    }
    throw error;
  }
}

export function createInjectionWebhook(options: InjectionWebhookOptions): InjectionWebhookServer {
  const server = createServer({ key: options.key, cert: pem(options.certificateChain), minVersion: 'TLSv1.2', requestTimeout: REQUEST_TIMEOUT_MS }, (request, response) => {
    // The API server appends ?timeout=10s to the webhook's path.
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'POST' || path !== INJECTION_PATH) {
      sendJson(response, 404, { error: `not found; the injection webhook answers POST ${INJECTION_PATH} only` });
      return;
    }
    handleReview(request, response, options).catch((error: unknown) => {
      // A bug here, not a bad pod: answer 500 and let the webhook's failurePolicy decide.
      options.log.error({ err: error }, 'injection webhook failed');
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error in the injection webhook' });
      else response.destroy();
    });
  });
  return Object.assign(server, {
    setCertificate(key: string, certificateChain: string | readonly string[]): void {
      server.setSecureContext({ key, cert: pem(certificateChain), minVersion: 'TLSv1.2' });
    },
  });
}
