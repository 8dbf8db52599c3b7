// The control plane's /metrics on the debug port, scraped over HTTP from a real control plane
// (file registry, CA, plaintext and TLS ports) while an in-test proxy holds an ADS stream:
// proxies connected, pushes, push latency up to the ACK, NACKs, snapshot sizes, stream errors,
// registry rebuilds and refusals, certificates issued and refused — and no secret or proxy id.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { generateKeyAndCsr, loadOrCreateCa, type CertificateAuthority } from '@weft/ca';
import { createCertificateMethod, CreateCertificateRequest, DiscoveryRequest, resourceKindOf, resourceKindsInPushOrder, ResourceType, streamResourcesMethod, type DiscoveryResponse, type ResourceKind } from '@weft/proto';
import { createLogger, formatHostPort, pollUntil, type HostPort } from '@weft/runtime';
import { BootstrapTokenAuthenticator, newBootstrapToken, tokenDigest } from '../src/ca/bootstrap-tokens.ts';
import { ControlPlane, type BoundAddresses } from '../src/control-plane.ts';
import { ControlPlaneMetrics } from '../src/metrics/controlplane-metrics.ts';
import { FileRegistry } from '../src/registry/file-registry.ts';
import { CANARY_MESH } from './fixtures.ts';
import { sample } from './prometheus-text.ts';

const log = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
const LOCAL = { host: '127.0.0.1', port: 0 };
const TIMEOUT_MS = 10_000;

/** A proxy's end of an ADS stream: subscribes to every type, ACKs each response, or NACKs the next one of a type it is told to. */
class AckingProxy {
  readonly received: { kind: ResourceKind; version: string }[] = [];
  private readonly stream: ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  private readonly rejectNext = new Set<ResourceKind>();

  constructor(client: Client, workload: string) {
    this.stream = client.makeBidiStreamRequest(streamResourcesMethod.path, streamResourcesMethod.requestSerialize, streamResourcesMethod.responseDeserialize);
    this.stream.on('error', () => undefined);
    this.stream.on('data', (response: DiscoveryResponse) => {
      const kind = resourceKindOf(response.typeUrl) as ResourceKind;
      this.received.push({ kind, version: response.versionInfo });
      const errorDetail = this.rejectNext.delete(kind) ? { code: 3, message: 'rejected by the test' } : null;
      this.stream.write(DiscoveryRequest.create({ typeUrl: response.typeUrl, versionInfo: response.versionInfo, responseNonce: response.nonce, errorDetail }));
    });
    for (const [index, kind] of resourceKindsInPushOrder.entries()) {
      this.stream.write(DiscoveryRequest.create({ typeUrl: ResourceType[kind].typeUrl, node: index === 0 ? { workload, namespace: 'default' } : null }));
    }
  }

  rejectNextOf(kind: ResourceKind): void {
    this.rejectNext.add(kind);
  }

  close(): void {
    this.stream.end();
  }
}

describe('control plane metrics (GET :15014/metrics)', () => {
  let dir: string;
  let meshPath: string;
  let ca: CertificateAuthority;
  let controlPlane: ControlPlane;
  let bound: BoundAddresses;
  let xdsClient: Client;
  const metrics = new ControlPlaneMetrics();
  const bootstrap = newBootstrapToken({ namespace: 'default', serviceAccount: 'frontend' });

  const scrape = async (): Promise<string> => {
    const response = await fetch(`http://${formatHostPort(bound.debug)}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return response.text();
  };

  /** Every type this proxy subscribed to ACKed at the version last sent. */
  const settled = (id: string) => () => {
    const status = controlPlane.ads.status().find((proxy) => proxy.id === id);
    const types = Object.values(status?.types ?? {});
    return types.length === resourceKindsInPushOrder.length && types.every((type) => type.sent !== undefined && type.acked === type.sent && !type.rejection) ? true : undefined;
  };

  const rewriteMesh = (text: string): Promise<void> => writeFile(meshPath, text);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-cp-metrics-'));
    meshPath = join(dir, 'mesh.yaml');
    await writeFile(meshPath, CANARY_MESH);
    ca = await loadOrCreateCa(join(dir, 'ca'));
    const authenticator = BootstrapTokenAuthenticator.of([{ sha256: tokenDigest(bootstrap.token), identity: { namespace: 'default', serviceAccount: 'frontend' } }]);
    const registry = new FileRegistry({ path: meshPath, log, metrics: metrics.forRegistry('file') });
    controlPlane = new ControlPlane({ registry, log, xdsAddress: LOCAL, debugAddress: LOCAL, identity: { ca, authenticator, secureAddress: LOCAL }, metrics });
    bound = await controlPlane.start();
    xdsClient = new Client(formatHostPort(bound.xds as HostPort), credentials.createInsecure());
  });

  after(async () => {
    xdsClient?.close();
    await controlPlane?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts a connected proxy, each push by type, and times the ACKs of a change; the proxy leaves the gauge when it disconnects', async () => {
    const proxy = new AckingProxy(xdsClient, 'frontend');
    await pollUntil('frontend synced', TIMEOUT_MS, settled('frontend.default'));
    let text = await scrape();
    assert.equal(sample(text, 'weft_controlplane_xds_connected_proxies'), 1);
    for (const kind of resourceKindsInPushOrder) {
      assert.equal(sample(text, `weft_controlplane_xds_pushes_total{type="${kind}"}`), 1, `one initial ${kind} push`);
      assert.equal(sample(text, `weft_controlplane_xds_push_latency_seconds_count{type="${kind}"}`), 0, 'a first sync is no change to time');
    }
    assert.equal(sample(text, 'weft_controlplane_xds_snapshot_bytes_count'), 1);
    assert.ok(sample(text, 'weft_controlplane_xds_snapshot_bytes_sum') > 1000, 'the snapshot carries at least the trust bundle');
    assert.equal(sample(text, 'weft_controlplane_registry_rebuilds_total{registry="file"}'), 1);

    // A change to clusters (load balancer) and routes (timeout): pushed, ACKed, timed.
    const before = proxy.received.length;
    await rewriteMesh(CANARY_MESH.replace('timeout: 1.5s', 'timeout: 3s').replace('{simple: LEAST_REQUEST}', '{simple: ROUND_ROBIN}'));
    await pollUntil('cluster and route pushed', TIMEOUT_MS, () => (['cluster', 'route'].every((kind) => proxy.received.slice(before).some((response) => response.kind === kind)) ? true : undefined));
    await pollUntil('the change ACKed', TIMEOUT_MS, settled('frontend.default'));
    const pushed = proxy.received.slice(before);
    text = await scrape();
    for (const kind of resourceKindsInPushOrder) {
      const count = pushed.filter((response) => response.kind === kind).length;
      assert.equal(sample(text, `weft_controlplane_xds_pushes_total{type="${kind}"}`), 1 + count, `${kind} pushes`);
      assert.equal(sample(text, `weft_controlplane_xds_push_latency_seconds_count{type="${kind}"}`), count, `${kind}: one latency per ACKed push`);
    }
    // The registry settles for 50 ms and the control plane debounces for 100 ms before it pushes.
    assert.equal(sample(text, 'weft_controlplane_xds_push_latency_seconds_bucket{le="0.1",type="route"}'), 0, 'the debounce is inside the latency');
    assert.equal(sample(text, 'weft_controlplane_xds_snapshot_bytes_count'), 2, 'once per proxy per model');
    assert.equal(sample(text, 'weft_controlplane_registry_rebuilds_total{registry="file"}'), 2);
    assert.equal(sample(text, 'weft_controlplane_registry_update_lag_seconds_count{registry="file"}'), 1, 'file change to model applied');

    proxy.close();
    await pollUntil('the gauge back to 0', TIMEOUT_MS, async () => (sample(await scrape(), 'weft_controlplane_xds_connected_proxies') === 0 ? true : undefined));
  });

  it('counts a NACK under its type, and does not time the rejected push as converged', async () => {
    const proxy = new AckingProxy(xdsClient, 'orders-v1');
    await pollUntil('orders-v1 synced', TIMEOUT_MS, settled('orders-v1.default'));
    const before = await scrape();
    proxy.rejectNextOf('cluster');
    await rewriteMesh(CANARY_MESH.replace('{simple: LEAST_REQUEST}', '{simple: RANDOM}'));
    await pollUntil('the cluster push rejected', TIMEOUT_MS, () => controlPlane.ads.status().find((status) => status.id === 'orders-v1.default')?.types.cluster?.rejection);
    const after = await scrape();
    const delta = (series: string): number => sample(after, series) - sample(before, series);
    assert.equal(delta('weft_controlplane_xds_nacks_total{type="cluster"}'), 1);
    assert.equal(delta('weft_controlplane_xds_nacks_total{type="route"}'), 0);
    assert.equal(delta('weft_controlplane_xds_push_latency_seconds_count{type="cluster"}'), 0);
    proxy.close();
  });

  it('counts a refused mesh file edit', async () => {
    await rewriteMesh(`${CANARY_MESH}---\nkind: Nonsense\n`);
    await pollUntil('the edit refused', TIMEOUT_MS, async () => (sample(await scrape(), 'weft_controlplane_registry_refused_updates_total{registry="file"}') === 1 ? true : undefined));
    await rewriteMesh(CANARY_MESH);
  });

  it('counts a stream refused for not saying which workload it serves, by gRPC status', async () => {
    const stream = xdsClient.makeBidiStreamRequest(streamResourcesMethod.path, streamResourcesMethod.requestSerialize, streamResourcesMethod.responseDeserialize);
    const failed = new Promise<ServiceError>((resolve) => stream.once('error', resolve));
    stream.write(DiscoveryRequest.create({ typeUrl: ResourceType.cluster.typeUrl }));
    assert.equal((await failed).code, 3);
    assert.equal(sample(await scrape(), 'weft_controlplane_xds_stream_errors_total{code="INVALID_ARGUMENT"}'), 1);
  });

  it('counts certificates issued and refusals by reason; no token, key or proxy id appears', async () => {
    const client = new Client(formatHostPort(bound.secure as HostPort), credentials.createSsl(Buffer.from(ca.trustBundle().join('\n')), null, null, { checkServerIdentity: () => undefined }), {
      'grpc.ssl_target_name_override': 'weft-controlplane',
    });
    const request = (token: string, csrPem: string): Promise<ServiceError | null> => {
      const metadata = new Metadata();
      metadata.set('authorization', `Bearer ${token}`);
      return new Promise((resolve) =>
        client.makeUnaryRequest(createCertificateMethod.path, createCertificateMethod.requestSerialize, createCertificateMethod.responseDeserialize, CreateCertificateRequest.create({ csrPem }), metadata, (error) => resolve(error)),
      );
    };
    try {
      const { csrPem } = await generateKeyAndCsr({ identity: { namespace: 'default', serviceAccount: 'frontend' }, trustDomain: ca.trustDomain });
      assert.equal(await request(bootstrap.token, csrPem), null);
      assert.equal((await request('not-a-known-token', csrPem))?.code, 16);
      assert.equal((await request(bootstrap.token, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n'))?.code, 3);
    } finally {
      client.close();
    }
    const text = await scrape();
    assert.equal(sample(text, 'weft_controlplane_ca_certificates_issued_total'), 1);
    assert.equal(sample(text, 'weft_controlplane_ca_refusals_total{reason="unauthenticated"}'), 1);
    assert.equal(sample(text, 'weft_controlplane_ca_refusals_total{reason="invalid_csr"}'), 1);
    for (const secret of [bootstrap.token, 'not-a-known-token', 'frontend', 'orders-v1', 'BEGIN']) assert.equal(text.includes(secret), false, `${secret} in the scrape`);
  });
});
