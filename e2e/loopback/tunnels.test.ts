// Tunnels through two sidecars (mTLS between them): a WebSocket echo reached by an HTTP/1.1
// Upgrade, and a TCP echo service reached by HTTP CONNECT to its service name and port.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { LoopbackMesh, type MeshDocument } from '@weft/cli';
import type { HostPort } from '@weft/runtime';
import { httpGet, pollUntil, temporaryDirectory } from './helpers.ts';
import { readTextFrame, textFrame } from './websocket-frames.ts';

const ECHO = join(dirname(fileURLToPath(import.meta.url)), 'echo-server.ts');

/** Reads from `socket` (after `initial`) until `complete` holds; the socket stays open. */
function readUntil(socket: Socket, initial: Buffer, complete: (bytes: Buffer) => boolean): Promise<Buffer> {
  if (complete(initial)) return Promise.resolve(initial);
  return new Promise((resolve, reject) => {
    let bytes = initial;
    const onData = (chunk: Buffer): void => {
      bytes = Buffer.concat([bytes, chunk]);
      if (!complete(bytes)) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      resolve(bytes);
    };
    const onClose = (): void => reject(new Error(`connection closed after ${bytes.length} bytes: ${bytes.subarray(0, 200).toString()}`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.resume();
  });
}

/** Sends `head` on a new connection and resolves with the socket once a full response head arrived. */
async function openWithHead(address: HostPort, head: string): Promise<{ socket: Socket; status: number; rest: Buffer }> {
  const socket = connect(address.port, address.host);
  await once(socket, 'connect');
  socket.write(head);
  const received = await readUntil(socket, Buffer.alloc(0), (bytes) => bytes.includes('\r\n\r\n'));
  const end = received.indexOf('\r\n\r\n');
  return { socket, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(received.toString('latin1'))?.[1]), rest: received.subarray(end + 4) };
}

describe('tunnels through two sidecars', () => {
  let mesh: LoopbackMesh;
  let removeDir: () => Promise<void>;

  before(async () => {
    const dir = await temporaryDirectory('tunnels');
    removeDir = dir.remove;
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'caller', app: false });
    await mesh.addWorkload({ name: 'ws-1', service: 'wsecho', program: ECHO, appArgs: ['--mode', 'websocket'] });
    await mesh.addWorkload({ name: 'tcp-1', service: 'tcpecho', port: 9000, protocol: 'TCP', program: ECHO, appArgs: ['--mode', 'tcp'] });
    await mesh.addWorkload({ name: 'smtp-1', service: 'smtp', port: 25, protocol: 'TCP', program: ECHO, appArgs: ['--mode', 'banner'] });
    // Clients outside the mesh reach the TCP services in plaintext.
    const permissive = (app: string): MeshDocument => ({
      apiVersion: 'mesh.weft.dev/v1alpha1',
      kind: 'MeshAuthentication',
      metadata: { name: `${app}-permissive` },
      spec: { selector: { matchLabels: { app } }, mtls: { mode: 'PERMISSIVE' } },
    });
    await mesh.writeMeshFile(mesh.documents([permissive('tcpecho'), permissive('smtp')]));
    // The caller's sidecar asks for each service at its first tunnel (on-demand discovery).
    for (const name of ['ws-1', 'tcp-1', 'smtp-1']) await mesh.sidecarServing(name);
    await pollUntil('the caller sidecar to be ready', 15_000, async () => ((await httpGet(mesh.workload('caller').admin, '/ready')).status === 200 ? true : undefined));
  });

  after(async () => {
    await mesh?.stop();
    await removeDir?.();
  });

  it('carries a WebSocket: upgrade through both sidecars, frames both ways', async () => {
    const key = randomBytes(16).toString('base64');
    const { socket, status, rest } = await openWithHead(
      mesh.workload('caller').outbound,
      `GET /chat HTTP/1.1\r\nhost: wsecho:8080\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: ${key}\r\nsec-websocket-version: 13\r\n\r\n`,
    );
    assert.equal(status, 101);
    let pending = rest;
    for (const text of ['hello', 'through', 'the mesh']) {
      socket.write(textFrame(text, true));
      pending = await readUntil(socket, pending, (bytes) => readTextFrame(bytes) !== undefined);
      const frame = readTextFrame(pending);
      assert.equal(frame?.text, `ws-1: ${text}`);
      pending = frame?.rest ?? Buffer.alloc(0);
    }
    socket.destroy();
  });

  it('carries opaque TCP: CONNECT tcpecho:9000, then bytes echo back unchanged', async () => {
    const { socket, status, rest } = await openWithHead(mesh.workload('caller').outbound, 'CONNECT tcpecho:9000 HTTP/1.1\r\nhost: tcpecho:9000\r\n\r\n');
    assert.equal(status, 200);
    const payload = randomBytes(200_000);
    socket.write(payload);
    const echoed = await readUntil(socket, rest, (bytes) => bytes.length >= payload.length);
    assert.ok(echoed.subarray(0, payload.length).equals(payload), 'the same 200 kB came back');
    socket.destroy();
    // The stream and its bytes are counted on both sidecars once it closes.
    const series = (text: string, name: string, direction: string): number | undefined => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${name}{direction="${direction}"`) && candidate.includes('destination_workload="tcp-1"'));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const caller = await pollUntil('the caller sidecar to count the closed stream', 5000, async () => {
      const text = (await httpGet(mesh.workload('caller').stats, '/stats/prometheus')).text;
      return series(text, 'weft_tcp_connections_closed_total', 'outbound') === 1 ? text : undefined;
    });
    assert.equal(series(caller, 'weft_tcp_connections_opened_total', 'outbound'), 1);
    assert.equal(series(caller, 'weft_tcp_received_bytes_total', 'outbound'), payload.length);
    assert.equal(series(caller, 'weft_tcp_sent_bytes_total', 'outbound'), payload.length);
    const callee = await pollUntil('the tcpecho sidecar to count the closed stream', 5000, async () => {
      const text = (await httpGet(mesh.workload('tcp-1').stats, '/stats/prometheus')).text;
      return series(text, 'weft_tcp_connections_closed_total', 'inbound') === 1 ? text : undefined;
    });
    assert.ok((series(callee, 'weft_tcp_sent_bytes_total', 'inbound') ?? 0) > 0);
  });

  it('connects a silent plaintext client of a server-first protocol at once: the greeting arrives, no detection wait', async () => {
    await pollUntil('smtp-1 to accept plaintext', 10_000, async () => ((await httpGet(mesh.workload('smtp-1').admin, '/config_dump')).text.includes('"tlsMode": "PERMISSIVE"') ? true : undefined));
    const started = performance.now();
    const socket = connect(mesh.workload('smtp-1').inbound.port, '127.0.0.1');
    const greeting = await readUntil(socket, Buffer.alloc(0), (bytes) => bytes.includes('\r\n'));
    const waited = performance.now() - started;
    assert.equal(greeting.toString(), '220 smtp-1 ready\r\n');
    assert.ok(waited < 1000, `the greeting took ${waited.toFixed(0)} ms`);
    socket.write('HELO mesh\r\n');
    const echoed = await readUntil(socket, Buffer.alloc(0), (bytes) => bytes.includes('HELO mesh\r\n'));
    assert.equal(echoed.toString(), 'HELO mesh\r\n');
    socket.destroy();
  });

  it('passes plaintext that is not HTTP to the workload\'s TCP port', async () => {
    await pollUntil('tcp-1 to accept plaintext', 10_000, async () => ((await httpGet(mesh.workload('tcp-1').admin, '/config_dump')).text.includes('"tlsMode": "PERMISSIVE"') ? true : undefined));
    const socket = connect(mesh.workload('tcp-1').inbound.port, '127.0.0.1');
    await once(socket, 'connect');
    const payload = Buffer.from([0x00, 0x01, 0x02, 0xff, 0x68, 0x69]);
    socket.write(payload);
    const echoed = await readUntil(socket, Buffer.alloc(0), (bytes) => bytes.length >= payload.length);
    assert.ok(echoed.equals(payload));
    socket.destroy();
  });

  it('answers a CONNECT to an unknown service with 404 NR', async () => {
    const { socket, status } = await openWithHead(mesh.workload('caller').outbound, 'CONNECT nowhere:9000 HTTP/1.1\r\nhost: nowhere:9000\r\n\r\n');
    assert.equal(status, 404);
    socket.destroy();
  });
});
