import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Server, ServerCredentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { aggregatedDiscoveryService, DiscoveryRequest, ResourceType, streamResourcesMethod, type DiscoveryResponse } from '@weft/proto';
import { createLogger } from '@weft/runtime';
import { CANARY_MESH } from '../../test/fixtures.ts';
import { readMeshFile } from '../registry/mesh-file.ts';
import { AdsServer } from './ads-server.ts';
import { SnapshotTranslator } from './translate.ts';

function translator(text: string): SnapshotTranslator {
  const result = readMeshFile(text, 'mesh.yaml');
  assert.ok(result.ok);
  return new SnapshotTranslator(result.model);
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A hand-driven proxy end of the stream. */
class TestProxy {
  readonly stream: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  private readonly received: DiscoveryResponse[] = [];
  private wake: (() => void) | undefined;

  constructor(client: Client) {
    this.stream = client.makeBidiStreamRequest(streamResourcesMethod.path, streamResourcesMethod.requestSerialize, streamResourcesMethod.responseDeserialize);
    this.stream.on('data', (response: DiscoveryResponse) => {
      this.received.push(response);
      this.wake?.();
    });
    this.stream.on('error', () => undefined);
  }

  subscribe(kind: keyof typeof ResourceType, versionInfo = '', node?: string, onDemand?: { names: string[] }): void {
    this.stream.write(
      DiscoveryRequest.create({ typeUrl: ResourceType[kind].typeUrl, versionInfo, node: node ? { workload: node, namespace: 'default', onDemand: onDemand !== undefined } : null, resourceNames: onDemand?.names ?? [] }),
    );
  }

  ack(response: DiscoveryResponse, resourceNames: string[] = []): void {
    this.stream.write(DiscoveryRequest.create({ typeUrl: response.typeUrl, versionInfo: response.versionInfo, responseNonce: response.nonce, resourceNames }));
  }

  /** Waits for the next `count` responses. */
  async next(count = 1): Promise<DiscoveryResponse[]> {
    const deadline = Date.now() + 5000;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} responses, got ${this.received.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.received.splice(0, count);
  }

  get pending(): number {
    return this.received.length;
  }
}

/** An AdsServer on a real gRPC server (port 0) serving CANARY_MESH, and a client channel to it, for one describe block. */
function servedAds(options: { pushWindowBytes?: number } = {}): { ads: AdsServer; client: () => Client } {
  const server = new Server();
  const ads = new AdsServer({ log: createLogger('test', 'silent'), ...options });
  let client: Client | undefined;
  before(async () => {
    server.addService(aggregatedDiscoveryService, ads.implementation());
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    ads.publish(translator(CANARY_MESH));
  });
  after(() => {
    client?.close();
    server.forceShutdown();
  });
  return { ads, client: () => client as Client };
}

describe('AdsServer', () => {
  const { ads, client: channel } = servedAds();
  let client: Client;
  before(() => {
    client = channel();
  });

  it('answers each subscription with the full set and its version', async () => {
    const proxy = new TestProxy(client);
    proxy.subscribe('cluster', '', 'frontend');
    proxy.subscribe('route');
    const [clusters, routes] = await proxy.next(2);
    assert.equal(clusters?.typeUrl, ResourceType.cluster.typeUrl);
    assert.equal(clusters?.resources.length, 4);
    assert.equal(routes?.resources.map((r) => r.name).join(), 'frontend.default.svc.cluster.local:8080,orders.default.svc.cluster.local:8080');
    assert.notEqual(clusters?.nonce, routes?.nonce);
    proxy.stream.end();
  });

  it('resumes a reconnecting proxy without re-sending the versions it holds', async () => {
    const first = new TestProxy(client);
    first.subscribe('cluster', '', 'resumer');
    first.subscribe('route');
    const [clusters, routes] = await first.next(2);
    first.stream.end();
    await until(() => !ads.status().some((proxy) => proxy.id === 'resumer.default'));

    // Reconnect holding the current clusters but stale routes: only routes come back.
    const again = new TestProxy(client);
    again.subscribe('cluster', clusters?.versionInfo, 'resumer');
    again.subscribe('route', 'stale');
    const [resent] = await again.next(1);
    assert.equal(resent?.typeUrl, ResourceType.route.typeUrl);
    assert.equal(resent?.versionInfo, routes?.versionInfo);
    again.ack(resent);

    // A change reaches it; what it already had is not repeated.
    ads.publish(translator(CANARY_MESH.replace('timeout: 1.5s', 'timeout: 3s')));
    const [changed] = await again.next(1);
    assert.equal(changed?.typeUrl, ResourceType.route.typeUrl);
    assert.notEqual(changed?.versionInfo, routes?.versionInfo);
    assert.equal(again.pending, 0);
    const status = ads.status().find((proxy) => proxy.id === 'resumer.default');
    assert.equal(status?.types.cluster?.acked, clusters?.versionInfo);
    again.stream.end();
  });

  it('reports per type what was sent, acknowledged, rejected and current, and where the admin endpoint is', async () => {
    const proxy = new TestProxy(client);
    proxy.stream.write(DiscoveryRequest.create({ typeUrl: ResourceType.cluster.typeUrl, node: { workload: 'reporter', namespace: 'default', adminAddress: '127.0.0.1:15000' } }));
    const [clusters] = await proxy.next(1);
    const status = () => ads.status().find((entry) => entry.id === 'reporter.default');
    assert.equal(status()?.adminAddress, '127.0.0.1:15000');
    assert.deepEqual(status()?.types.cluster, { sent: clusters?.versionInfo, acked: undefined, current: clusters?.versionInfo, rejection: undefined });
    proxy.ack(clusters as DiscoveryResponse);
    await until(() => status()?.types.cluster?.acked === clusters?.versionInfo);

    ads.publish(translator(CANARY_MESH.replace('simple: RANDOM', 'simple: LEAST_REQUEST')));
    const [changed] = await proxy.next(1);
    assert.notEqual(changed?.versionInfo, clusters?.versionInfo);
    proxy.stream.write(DiscoveryRequest.create({ typeUrl: ResourceType.cluster.typeUrl, versionInfo: clusters?.versionInfo, responseNonce: changed?.nonce, errorDetail: { code: 3, message: 'no good' } }));
    await until(() => status()?.types.cluster?.rejection !== undefined);
    const cluster = status()?.types.cluster;
    assert.equal(cluster?.current, changed?.versionInfo);
    assert.equal(cluster?.acked, clusters?.versionInfo);
    assert.equal(cluster?.rejection?.version, changed?.versionInfo);
    assert.equal(cluster?.rejection?.keeps, clusters?.versionInfo);
    assert.equal(cluster?.rejection?.message, 'no good');
    proxy.stream.end();
    ads.publish(translator(CANARY_MESH));
  });

  it('refuses a stream whose first request does not say who is asking', async () => {
    const anonymous = new TestProxy(client);
    const failed = new Promise<{ code?: number; details?: string }>((resolve) => anonymous.stream.once('error', resolve));
    anonymous.subscribe('cluster');
    const error = await failed;
    assert.equal(error.code, 3);
    assert.match(error.details ?? '', /must carry node\.workload/);
  });
});

describe('AdsServer on-demand subscriptions', () => {
  const { ads, client: channel } = servedAds();
  let client: Client;
  before(() => {
    client = channel();
  });

  it('sends only what is named, finds routes by any authority of the service, and says which names it answered', async () => {
    const proxy = new TestProxy(client);
    proxy.subscribe('route', '', 'scoped', { names: [] });
    proxy.subscribe('cluster', '', undefined, { names: [] });
    const [noRoutes, noClusters] = await proxy.next(2);
    // For an on-demand proxy an empty subscription means none, not every resource.
    assert.equal(noRoutes?.resources.length, 0);
    assert.equal(noClusters?.resources.length, 0);
    proxy.ack(noClusters);

    // Asking by a short name and by something that does not exist: both answered, one found.
    proxy.ack(noRoutes, ['nosuch:80', 'orders:8080']);
    const [routes] = await proxy.next(1);
    assert.deepEqual(routes?.resources.map((resource) => resource.name), ['orders.default.svc.cluster.local:8080']);
    assert.deepEqual(routes?.resourceNames, ['nosuch:80', 'orders:8080']);
    proxy.ack(routes, ['nosuch:80', 'orders:8080']);

    // Asking for more names is answered even when the set stays the same.
    proxy.ack(routes, ['nosuch:80', 'nosuch:81', 'orders:8080']);
    const [same] = await proxy.next(1);
    assert.equal(same?.versionInfo, routes?.versionInfo);
    assert.deepEqual(same?.resourceNames, ['nosuch:80', 'nosuch:81', 'orders:8080']);
    proxy.ack(same, ['nosuch:80', 'nosuch:81', 'orders:8080']);

    // A change to a service it did not ask for is not pushed; one to orders is.
    ads.publish(translator(CANARY_MESH.replace('ports: [{name: http, port: 8080, targetPort: 18083}]', 'ports: [{name: http, port: 8080, targetPort: 18084}]')));
    ads.publish(translator(CANARY_MESH.replace('timeout: 1.5s', 'timeout: 3s')));
    const [changed] = await proxy.next(1);
    assert.equal(changed?.typeUrl, ResourceType.route.typeUrl);
    assert.notEqual(changed?.versionInfo, routes?.versionInfo);
    assert.equal(proxy.pending, 0);
    proxy.stream.end();
  });
});

describe('AdsServer push window', () => {
  // One byte: every response waits for the previous one to be taken by its transport.
  const { ads, client: channel } = servedAds({ pushWindowBytes: 1 });
  let client: Client;
  before(() => {
    client = channel();
  });

  it('still delivers everything to every proxy, one response in flight at a time, and frees the window', async () => {
    const proxies = ['one', 'two', 'three'].map((name) => {
      const proxy = new TestProxy(client);
      proxy.subscribe('cluster', '', name);
      proxy.subscribe('endpoints');
      proxy.subscribe('route');
      return proxy;
    });
    for (const proxy of proxies) {
      const responses = await proxy.next(3);
      assert.deepEqual(responses.map((response) => response.typeUrl).sort(), [ResourceType.cluster.typeUrl, ResourceType.endpoints.typeUrl, ResourceType.route.typeUrl].sort());
      for (const response of responses) proxy.ack(response);
    }
    await until(() => ads.window.inFlight === 0 && ads.window.waitingCount === 0);
    // A change reaches them all too, through the same window.
    ads.publish(translator(CANARY_MESH.replace('weight: 90', 'weight: 70').replace('weight: 10', 'weight: 30')));
    for (const proxy of proxies) assert.equal((await proxy.next(1))[0]?.typeUrl, ResourceType.route.typeUrl);
    for (const proxy of proxies) proxy.stream.end();
  });
});
