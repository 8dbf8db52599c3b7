// Helpers for loopback tests: HTTP calls with undici, polling with a deadline, temp dirs.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { LoopbackMesh } from '@weft/cli';
import { RESPONSE_FLAGS_HEADER } from '@weft/proxy';
import { formatHostPort, pollUntil, type HostPort } from '@weft/runtime';

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

export { pollUntil };

const CLI = join(dirname(fileURLToPath(import.meta.resolve('@weft/cli'))), 'main.ts');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `weft ARGS` as its own process; asynchronous, so a control plane served by the test process keeps answering. */
export function weftCli(...args: string[]): Promise<CliResult> {
  return runProgram(CLI, args);
}

/** Runs a TypeScript program with this Node to completion, collecting its output. */
export function runProgram(script: string, args: readonly string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** The row of a printed table whose first column is `first`, split into cells. */
export function rowOf(table: string, first: string): string[] | undefined {
  return table
    .split('\n')
    .map((line) => line.split(/ {2,}/))
    .find((cells) => cells[0] === first);
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

export interface TrafficOptions {
  /** Requests per second, each sent on schedule however long earlier ones take (open loop); default one after another. */
  readonly perSecond?: number;
  readonly headers?: Record<string, string>;
  /** Whether the workload that answered is the called app's upstream (default) or the app itself. */
  readonly upstream?: boolean;
}

/** Requests until stopped, counting outcomes (a refused or cut connection is a failure too) and who answered. */
export class SteadyTraffic {
  sent = 0;
  ok = 0;
  readonly failures: string[] = [];
  readonly answeredBy = new Set<string>();
  private running = true;
  private readonly done: Promise<void>;

  constructor(address: HostPort, options: TrafficOptions = {}) {
    const { perSecond } = options;
    this.done = (async () => {
      const inFlight = new Set<Promise<void>>();
      const started = performance.now();
      while (this.running) {
        const request = this.send(address, options);
        if (perSecond === undefined) {
          await request;
          continue;
        }
        inFlight.add(request);
        void request.then(() => inFlight.delete(request));
        const due = started + (this.sent * 1000) / perSecond;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      }
      await Promise.all(inFlight);
    })();
  }

  private async send(address: HostPort, options: TrafficOptions): Promise<void> {
    this.sent++;
    try {
      const response = await httpGet(address, '/', options.headers);
      if (response.status === 200) {
        this.ok++;
        this.answeredBy.add(answeredBy(response, options.upstream ?? true) ?? '?');
      } else {
        this.failures.push(`${new Date().toISOString()} ${response.status} ${response.text}`);
      }
    } catch (error) {
      this.failures.push(`${new Date().toISOString()} ${String(error)}`);
    }
  }

  /** Stops sending; resolves once every request sent has its outcome. */
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

/** Starts a frontend (calling orders) and orders-1 in `mesh`, and waits until requests flow. */
export async function startFrontendAndOrders(mesh: LoopbackMesh): Promise<HostPort> {
  await mesh.addWorkload({ name: 'frontend', service: 'frontend', calls: ['orders:8080'] });
  await mesh.addWorkload({ name: 'orders-1', service: 'orders' });
  await mesh.writeMeshFile(mesh.documents());
  const frontend = mesh.workload('frontend').appAddress as HostPort;
  await pollUntil('frontend -> orders', 15_000, async () => ((await httpGet(frontend)).status === 200 ? true : undefined));
  return frontend;
}

/** What the demo app saw (its /__stats). */
export interface AppStats {
  readonly requests: number;
  readonly maxConcurrent: number;
  readonly methods: Record<string, number>;
  readonly hosts: Record<string, number>;
  readonly arrivals: number[];
}

/** Changes how a workload's demo app behaves (its /__behave: status, failRate, delayMs, reset). */
export async function behave(mesh: LoopbackMesh, workload: string, query: string): Promise<void> {
  await httpGet(mesh.workload(workload).appAddress as HostPort, `/__behave?${query}`);
}

export async function appStats(mesh: LoopbackMesh, workload: string): Promise<AppStats> {
  return JSON.parse((await httpGet(mesh.workload(workload).appAddress as HostPort, '/__stats')).text) as AppStats;
}

/** One request's outcome as a caller of a sidecar sees it. */
export interface SentResult {
  readonly status: number;
  /** The demo app that answered, when one did. */
  readonly workload: string | undefined;
  readonly flag: string | undefined;
  readonly ms: number;
  readonly body: string;
}

/** `count` requests to a sidecar's outbound port, `concurrency` at a time. */
export async function sendRequests(outbound: HostPort, count: number, options: { method?: string; headers: Record<string, string>; concurrency?: number }): Promise<SentResult[]> {
  const results: SentResult[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      const started = performance.now();
      const response = await httpRequest(outbound, options.method ?? 'GET', '/', options.headers);
      let workload: string | undefined;
      try {
        workload = (JSON.parse(response.text) as { workload?: string }).workload;
      } catch {
        workload = undefined;
      }
      const flag = response.headers[RESPONSE_FLAGS_HEADER];
      results.push({ status: response.status, workload, flag: typeof flag === 'string' ? flag : undefined, ms: performance.now() - started, body: response.text });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 1 }, worker));
  return results;
}

/**
 * Makes `workload`'s sidecar subscribe to `authorities` before they are in the mesh (on-demand
 * discovery: it asks at the first request, is told 404 NR, and stays subscribed), so every later
 * configuration of those services reaches it without a request first.
 */
export async function subscribeBeforeTheyExist(mesh: LoopbackMesh, workload: string, authorities: readonly string[]): Promise<void> {
  for (const host of authorities) {
    await pollUntil(`${workload}'s sidecar to ask for ${host}`, 15_000, async () => ((await httpRequest(mesh.workload(workload).outbound, 'GET', '/', { host })).status === 404 ? true : undefined));
  }
}
