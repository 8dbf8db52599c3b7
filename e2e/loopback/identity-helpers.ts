// Helpers for identity tests: a TLS client that presents a chosen certificate, a relay that
// records what crosses it, and mesh-file edits.
import { createServer, connect as netConnect, type Server } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { once } from 'node:events';
import type { LoopbackMesh, MeshDocument } from '@weft/cli';
import { httpGet } from './helpers.ts';
import { formatHostPort, type HostPort } from '@weft/runtime';

export interface ClientCertificate {
  readonly keyPem: string;
  readonly chainPem: readonly string[];
}

export interface TlsExchange {
  readonly status: number | undefined;
  readonly protocol: string | null;
  readonly body: string;
  readonly peer: PeerCertificate | undefined;
  readonly error: string | undefined;
}

/**
 * One HTTP/1.1 request over TLS to `address`, presenting `client` (or no certificate). The
 * server is verified only against `verifyWith`, when given: most tests look at what the server
 * accepts.
 */
export async function tlsRequest(address: HostPort, client: ClientCertificate | undefined, path = '/', verifyWith?: string): Promise<TlsExchange> {
  const socket = tlsConnect({
    host: address.host,
    port: address.port,
    key: client?.keyPem,
    cert: client?.chainPem.join('\n'),
    // With `verifyWith` (PEM roots) the server's chain must verify against exactly those.
    rejectUnauthorized: verifyWith !== undefined,
    ca: verifyWith,
    checkServerIdentity: () => undefined,
    ALPNProtocols: ['http/1.1'],
    servername: 'weft-test',
  });
  let data = '';
  let peer: PeerCertificate | undefined;
  let protocol: string | null = null;
  let error: string | undefined;
  socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
  socket.on('error', (e: Error) => (error = e.message));
  socket.once('secureConnect', () => {
    peer = socket.getPeerCertificate();
    protocol = socket.getProtocol();
    socket.write(`GET ${path} HTTP/1.1\r\nhost: orders\r\nconnection: close\r\n\r\n`);
  });
  await once(socket, 'close');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(data)?.[1];
  return { status: status === undefined ? undefined : Number(status), protocol, body: data.split('\r\n\r\n').slice(1).join('\r\n\r\n'), peer, error };
}

/** A plaintext HTTP/1.1 request over a raw socket; status undefined when the server hung up. */
export async function plainRequest(address: HostPort, path = '/'): Promise<{ status: number | undefined; raw: string }> {
  const socket = netConnect(address.port, address.host);
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
  socket.on('error', () => undefined);
  socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nhost: orders\r\nconnection: close\r\n\r\n`));
  await once(socket, 'close');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(data)?.[1];
  return { status: status === undefined ? undefined : Number(status), raw: data };
}

/** A TCP relay to `target` that keeps the first bytes each connection sent towards it. */
export class RecordingRelay {
  readonly firstBytes: Buffer[] = [];
  private readonly server: Server;

  constructor(target: HostPort) {
    this.server = createServer((client) => {
      const upstream = netConnect(target.port, target.host);
      let index: number | undefined;
      client.on('data', (chunk: Buffer) => {
        index ??= this.firstBytes.push(Buffer.alloc(0)) - 1;
        const recorded = this.firstBytes[index] as Buffer;
        if (recorded.length < 4096) this.firstBytes[index] = Buffer.concat([recorded, chunk]);
      });
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
  }

  async listen(): Promise<HostPort> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('relay did not bind');
    return { host: '127.0.0.1', port: address.port };
  }

  close(): void {
    this.server.close();
  }
}

/** The mesh documents with workload `name`'s sidecar address replaced. */
export function withSidecarAddress(documents: MeshDocument[], name: string, address: HostPort): MeshDocument[] {
  return documents.map((document) => {
    const metadata = document.metadata as { name: string };
    if (document.kind !== 'Workload' || metadata.name !== name) return document;
    const spec = document.spec as Record<string, unknown>;
    return { ...document, spec: { ...spec, sidecar: { inbound: formatHostPort(address) } } };
  });
}

/** A sidecar's certificate as its admin endpoint reports it (never the key). */
export async function certificateStatus(mesh: LoopbackMesh, workload: string): Promise<{ spiffeId: string; issued: number; failures: number; notAfter: string }> {
  const dump = JSON.parse((await httpGet(mesh.workload(workload).admin, '/config_dump')).text) as { certificate: { spiffeId: string; issued: number; failures: number; notAfter: string } };
  return dump.certificate;
}
