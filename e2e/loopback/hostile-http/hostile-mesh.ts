// The setup every hostile-HTTP test shares: a control plane, a client sidecar (whose outbound
// port faces the hostile application) and a target sidecar (whose inbound port faces hostile
// peers, plaintext allowed: PERMISSIVE) in front of a recording application, which keeps every
// byte and every request that reaches it. What the proxy refused must never show up there.
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import { LoopbackMesh } from '@weft/cli';
import type { HostPort } from '@weft/runtime';
import { httpGet, pollUntil, temporaryDirectory } from '../helpers.ts';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * An application that records what it is sent: raw bytes per connection, and each complete
 * request. Requests for /hold are answered only when released (to keep streams open).
 */
export class RecordingApp {
  readonly requests: RecordedRequest[] = [];
  private readonly connections: Buffer[][] = [];
  private readonly held: ServerResponse[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('latin1') });
        if (request.url?.startsWith('/hold')) this.held.push(response);
        else response.end('ok');
      });
    });
    this.server.on('connection', (socket: Socket) => {
      const bytes: Buffer[] = [];
      this.connections.push(bytes);
      socket.on('data', (chunk: Buffer) => bytes.push(chunk));
    });
  }

  releaseHeld(): void {
    for (const response of this.held.splice(0)) response.end('released');
  }

  async start(): Promise<HostPort> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return { host: '127.0.0.1', port: (this.server.address() as AddressInfo).port };
  }

  /** Everything received, on every connection, as text. */
  received(): string {
    return this.connections.map((chunks) => Buffer.concat(chunks).toString('latin1')).join('');
  }

  /** Request lines seen in the raw bytes: what a parser at the application could take for a request. */
  requestLines(): string[] {
    return this.received().match(/^[A-Z]+ \S+ HTTP\/1\.[01]\r?$/gm) ?? [];
  }

  reset(): void {
    this.releaseHeld();
    this.requests.length = 0;
    // Emptied in place: pooled connections from the sidecar stay open and keep recording.
    for (const bytes of this.connections) bytes.length = 0;
  }

  /** Resolves once a complete request for `url` has arrived. */
  arrival(url: string, timeoutMs = 10_000): Promise<true> {
    return pollUntil(`${url} at the app`, timeoutMs, () => (this.requests.some((request) => request.url === url) ? true : undefined));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }
}

export interface HostileMesh {
  readonly mesh: LoopbackMesh;
  readonly app: RecordingApp;
  /** The client sidecar's outbound port: the hostile application's side. */
  readonly outbound: HostPort;
  /** The target sidecar's inbound port: the hostile peer's side (plaintext, PERMISSIVE). */
  readonly inbound: HostPort;
  /** Host naming the target service from the client. */
  readonly host: string;
  stop(): Promise<void>;
}

/** Starts the mesh; `proxyArgs` go to both sidecars. */
export async function startHostileMesh(proxyArgs: readonly string[] = []): Promise<HostileMesh> {
  const dir = await temporaryDirectory('hostile-http');
  const app = new RecordingApp();
  const appAddress = await app.start();
  const mesh = new LoopbackMesh({ dir: dir.path, mtls: 'PERMISSIVE' });
  const stop = async (): Promise<void> => {
    await mesh.stop();
    await app.stop();
    await dir.remove();
  };
  try {
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'client', app: false, proxyArgs });
    const target = await mesh.addWorkload({ name: 'target', service: 'target', app: false, proxyArgs });
    // The recording app runs in the test process, so the target's port is declared by hand.
    mesh.workloads.set('target', { ...target, appAddress });
    await mesh.writeMeshFile(mesh.documents());
    // The client's sidecar asks for target at its first request (on-demand discovery); each test resets the app.
    await pollUntil('the client sidecar to route to target', 20_000, async () => ((await httpGet(mesh.workload('client').outbound, '/', { host: 'target:8080' })).status === 200 ? true : undefined));
    await pollUntil('the target sidecar to accept plaintext', 20_000, async () => ((await httpGet(target.admin, '/config_dump')).text.includes('"tlsMode": "PERMISSIVE"') ? true : undefined));
    return { mesh, app, outbound: mesh.workload('client').outbound, inbound: target.inbound, host: 'target:8080', stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface RawReply {
  /** Everything the proxy wrote back. */
  readonly text: string;
  /** Status codes of the responses in `text`, in order. */
  readonly statuses: number[];
  /** Whether the proxy closed the connection. */
  readonly closed: boolean;
}

function statusesOf(text: string): number[] {
  return [...text.matchAll(/^HTTP\/1\.1 (\d{3}) /gm)].map((match) => Number(match[1]));
}

/** Whether `text` holds `count` complete responses, each framed by Content-Length or chunked. */
function holdsResponses(text: string, count: number): boolean {
  let rest = text;
  for (let i = 0; i < count; i++) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return false;
    const length = /^content-length: *(\d+)/im.exec(rest.slice(0, end));
    const next = length ? end + 4 + Number(length[1]) : rest.indexOf('\r\n0\r\n\r\n', end) + 7;
    if ((!length && next < 7) || rest.length < next) return false;
    rest = rest.slice(next);
  }
  return true;
}

export interface SendOptions {
  /** Stop once this many complete responses arrived; default: wait for the close. */
  readonly responses?: number;
  /** Give up waiting after this long; default 10 s. */
  readonly waitMs?: number;
  /** Written after `bytes`, one piece every `trickleMs`, until the connection closes. */
  readonly trickle?: { readonly piece: string; readonly everyMs: number };
}

/**
 * Writes `bytes` (a string is taken as latin1) to `address` and reads what comes back until
 * the proxy closes the connection, `responses` complete responses arrived, or `waitMs` passes.
 */
export async function sendRaw(address: HostPort, bytes: string | Buffer, options: SendOptions = {}): Promise<RawReply> {
  const socket = connect(address.port, address.host);
  const chunks: Buffer[] = [];
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  const trickle = options.trickle && setInterval(() => socket.write(options.trickle?.piece ?? ''), options.trickle.everyMs);
  // A reset counts as closed: 'close' follows 'error'.
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), options.waitMs ?? 10_000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (options.responses !== undefined && holdsResponses(Buffer.concat(chunks).toString('latin1'), options.responses)) {
        clearTimeout(timer);
        resolve(false);
      }
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  clearInterval(trickle);
  socket.destroy();
  const text = Buffer.concat(chunks).toString('latin1');
  return { text, statuses: statusesOf(text), closed };
}
