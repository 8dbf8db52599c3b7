// Helpers for loopback tests: HTTP calls with undici, polling with a deadline, temp dirs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { formatHostPort, type HostPort } from '@weft/runtime';

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export async function httpRequest(address: HostPort, method: string, path = '/', headers: Record<string, string> = {}): Promise<HttpResult> {
  const response = await request(`http://${formatHostPort(address)}${path}`, { method: method as 'GET', headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

export function httpGet(address: HostPort, path = '/', headers: Record<string, string> = {}): Promise<HttpResult> {
  return httpRequest(address, 'GET', path, headers);
}

/** Calls `attempt` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function pollUntil<T>(what: string, timeoutMs: number, attempt: () => T | undefined | Promise<T | undefined>, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      last = error as Error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function temporaryDirectory(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `weft-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** The workload that answered, from the demo app's JSON (`upstream[0]` when called through another app). */
export function answeredBy(result: HttpResult, upstream = true): string | undefined {
  const body = JSON.parse(result.text) as { workload?: string; upstream?: { body?: { workload?: string } }[] };
  return upstream ? body.upstream?.[0]?.body?.workload : body.workload;
}
