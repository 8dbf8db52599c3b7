// A request the upstream provably never received (a refused HTTP/2 stream, a refused
// connection) is sent again to another endpoint without any retry policy: what a client
// sidecar sees while a peer drains.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { constants, createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { ResourceType } from '@weft/proto';
import { decodeCluster } from '../../config/resources/cluster.ts';
import type { EndpointConfig } from '../../config/resources/endpoints.ts';
import { newContext, PLAINTEXT, type ProxyRequest } from '../../http/handler.ts';
import { UpstreamPools } from '../endpoint/upstream-pools.ts';
import { newEndpointState } from './balancers.ts';
import { UpstreamCluster } from './upstream-cluster.ts';

const NAME = 'outbound|8080||orders.default.svc.cluster.local';
/** An HTTP2 cluster with every default, as the control plane would send it. */
const CLUSTER = decodeCluster(NAME, ResourceType.cluster.encode({ name: NAME, service: 'orders.default.svc.cluster.local', port: 8080, protocol: 2 }));

function endpoint(port: number): EndpointConfig {
  return { address: '127.0.0.1', port, labels: {}, weight: 1, ready: true, workload: `app-${port}`, connectHost: '127.0.0.1', connectPort: port, viaSidecar: false, mtls: false };
}

async function h2Server(onStream: (stream: ServerHttp2Stream) => void): Promise<{ server: Http2Server; port: number }> {
  const server = createServer();
  server.on('stream', (stream: ServerHttp2Stream) => {
    // Closing a stream with an error code reports that error on the server's side too.
    stream.on('error', () => undefined);
    onStream(stream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createTcpServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function post(body: string): ProxyRequest {
  return { method: 'POST', path: '/', authority: 'orders:8080', headers: { 'content-length': String(body.length) }, body: Readable.from([Buffer.from(body)]), signal: new AbortController().signal, connection: PLAINTEXT, remoteAddress: '127.0.0.1' };
}

describe('UpstreamCluster: requests the upstream never received', () => {
  const pools = new UpstreamPools();
  const servers: Http2Server[] = [];
  after(async () => {
    await pools.destroy();
    for (const server of servers) server.close();
  });

  it('sends a request whose stream was refused, or whose connection was refused, to another endpoint, body included', async () => {
    const echo = await h2Server((stream) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end(`echo ${Buffer.concat(chunks).toString()}`);
      });
    });
    // What a draining HTTP/2 peer does to a stream beyond its GOAWAY.
    let refused = 0;
    const refusing = await h2Server((stream) => {
      refused++;
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
    });
    servers.push(echo.server, refusing.server);
    const endpoints = [endpoint(refusing.port), endpoint(await closedPort()), endpoint(echo.port)].map(newEndpointState);
    const cluster = new UpstreamCluster(CLUSTER, endpoints, { pools, localWorkload: 'frontend.default' }, undefined);

    for (let i = 0; i < 6; i++) {
      const context = newContext('outbound');
      const response = await cluster.handle(post(`request ${i}`), context);
      assert.equal(response.status, 200);
      assert.equal(Buffer.concat((await response.body?.toArray()) as Buffer[]).toString(), `echo request ${i}`);
      assert.equal(context.destinationWorkload, `app-${echo.port}`);
    }
    assert.ok(refused > 0, 'the refusing endpoint was tried');
  });

  it('does not send again a request the upstream may have received (a reset after it started)', async () => {
    let received = 0;
    const resetting = await h2Server((stream) => {
      received++;
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    });
    servers.push(resetting.server);
    const cluster = new UpstreamCluster(CLUSTER, [newEndpointState(endpoint(resetting.port))], { pools, localWorkload: 'frontend.default' }, undefined);
    await assert.rejects(cluster.handle(post('once'), newContext('outbound')), /NGHTTP2_INTERNAL_ERROR/);
    assert.equal(received, 1);
  });
});
