// GET a JSON document from a Weft debug or admin endpoint, with a deadline and errors that say
// which endpoint could not be reached and why.
import { request } from 'undici';
import { UsageError } from '../ca/subcommand.ts';

/** The endpoint did not answer (refused, timed out, not HTTP): nothing can be said about it. */
export class UnreachableError extends Error {}

export interface JsonResponse {
  readonly status: number;
  readonly body: unknown;
}

export async function getJson(url: URL, what: string, timeoutMs = 5000): Promise<JsonResponse> {
  let response;
  try {
    response = await request(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message;
    throw new UnreachableError(`cannot reach ${what} at ${url.origin}: ${reason}`);
  }
  const text = await response.body.text();
  try {
    return { status: response.statusCode, body: JSON.parse(text) as unknown };
  } catch {
    throw new UnreachableError(`${what} at ${url.origin} answered ${url.pathname} with something other than JSON (is that the right port?)`);
  }
}

/** "127.0.0.1:15014" or "http://host:port": a base URL for --controlplane / --admin. */
export function parseBaseUrl(value: string, flag: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '') {
    throw new UsageError(`${flag} must be an http(s) address like http://127.0.0.1:15014, got "${value}"`);
  }
  return url;
}
