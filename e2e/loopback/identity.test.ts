// Identity and mTLS between real processes: what crosses the wire, what STRICT and PERMISSIVE
// accept, that a token yields exactly its own identity, that clients verify servers by SPIFFE
// ID, and AccessPolicy decisions.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer as createTlsServer } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { createRootCa, generateKeyAndCsr, loadCa, type CertificateAuthority } from '@weft/ca';
import { EPHEMERAL_PROXY_LISTENERS, LoopbackMesh, ManagedProcess, PROGRAMS, type MeshDocument } from '@weft/cli';
import { createCertificateMethod, CreateCertificateRequest } from '@weft/proto';
import { formatHostPort, type HostPort } from '@weft/runtime';
import { answeredBy, httpGet, httpRequest, pollUntil, startFrontendAndOrders, temporaryDirectory } from './helpers.ts';
import { certificateStatus, plainRequest, RecordingRelay, tlsRequest, withSidecarAddress } from './identity-helpers.ts';

const API_VERSION = 'mesh.weft.dev/v1alpha1';

describe('identity and mTLS between sidecars', () => {
  let mesh: LoopbackMesh;
  let meshCa: CertificateAuthority;
  const removals: (() => Promise<void>)[] = [];

  before(async () => {
    const dir = await temporaryDirectory('identity');
    removals.push(dir.remove);
    mesh = new LoopbackMesh({ dir: dir.path });
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'frontend', service: 'frontend', calls: ['orders:8080'] });
    await mesh.addWorkload({ name: 'orders-1', service: 'orders' });
    await mesh.addWorkload({ name: 'client-a', app: false });
    await mesh.addWorkload({ name: 'client-b', app: false });
    await mesh.addWorkload({ name: 'client-c', namespace: 'other', app: false });
    await mesh.writeMeshFile(mesh.documents());
    meshCa = await loadCa((mesh.identity as NonNullable<LoopbackMesh['identity']>).caDir);
    await routed();
  });

  after(async () => {
    await mesh?.stop();
    for (const remove of removals) await remove();
  });

  const frontend = (): HostPort => mesh.workload('frontend').appAddress as HostPort;
  const ordersInbound = (): HostPort => mesh.workload('orders-1').inbound;

  /** Waits until a request through the frontend reaches orders-1. */
  function routed(): Promise<true> {
    return pollUntil('frontend -> orders', 15_000, async () => ((await httpGet(frontend())).status === 200 ? true : undefined));
  }

  async function rewrite(extra: MeshDocument[] = [], documents = mesh.documents(extra)): Promise<void> {
    await mesh.writeMeshFile(documents);
  }

  it('carries sidecar-to-sidecar traffic as TLS: a relay on the hop sees handshakes, never HTTP', async () => {
    const relay = new RecordingRelay(ordersInbound());
    const address = await relay.listen();
    try {
      await rewrite([], withSidecarAddress(mesh.documents(), 'orders-1', address));
      await pollUntil('traffic through the relay', 10_000, async () => {
        const response = await httpGet(frontend());
        return response.status === 200 && relay.firstBytes.length > 0 ? true : undefined;
      });
      for (const bytes of relay.firstBytes) {
        assert.equal(bytes[0], 0x16, 'a TLS handshake record');
        assert.equal(bytes[1], 0x03);
        assert.ok(!bytes.toString('latin1').includes('HTTP/1.1'), 'no plaintext HTTP on the wire');
      }
    } finally {
      await rewrite();
      relay.close();
      await routed();
    }
  });

  it('STRICT refuses plaintext and a certificate from another CA, and accepts the mesh', async () => {
    const plain = await plainRequest(ordersInbound());
    assert.equal(plain.status, undefined, `plaintext was answered: ${plain.raw}`);

    const otherDir = await temporaryDirectory('other-ca');
    removals.push(otherDir.remove);
    await createRootCa(otherDir.path);
    const foreign = await (await loadCa(otherDir.path)).issue({ namespace: 'default', serviceAccount: 'frontend' });
    const refused = await tlsRequest(ordersInbound(), foreign);
    assert.equal(refused.status, undefined, 'a certificate from another CA is refused');

    const member = await meshCa.issue({ namespace: 'default', serviceAccount: 'client-a' });
    const accepted = await tlsRequest(ordersInbound(), member);
    assert.equal(accepted.status, 200, accepted.error ?? accepted.body);
    assert.equal(accepted.protocol, 'TLSv1.3');
    assert.match(accepted.peer?.subjectaltname ?? '', /URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/orders/);
  });

  it('PERMISSIVE accepts plaintext and mTLS on the same port', async () => {
    const permissive: MeshDocument = {
      apiVersion: API_VERSION,
      kind: 'MeshAuthentication',
      metadata: { name: 'orders-permissive', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'orders' } }, mtls: { mode: 'PERMISSIVE' } },
    };
    await rewrite([permissive]);
    try {
      await pollUntil('plaintext accepted', 10_000, async () => ((await plainRequest(ordersInbound())).status === 200 ? true : undefined));
      const member = await meshCa.issue({ namespace: 'default', serviceAccount: 'client-a' });
      assert.equal((await tlsRequest(ordersInbound(), member)).status, 200);
      assert.equal((await plainRequest(ordersInbound())).status, 200);
    } finally {
      await rewrite();
      await pollUntil('plaintext refused again', 10_000, async () => ((await plainRequest(ordersInbound())).status === undefined ? true : undefined));
    }
  });

  it('a token for one service account neither obtains nor presents another', async () => {
    const identity = mesh.identity as NonNullable<LoopbackMesh['identity']>;
    const ordersToken = (await readFile(await identity.tokenFile('default', 'orders'), 'utf8')).trim();
    const { csrPem } = await generateKeyAndCsr({ identity: { namespace: 'default', serviceAccount: 'frontend' }, trustDomain: 'cluster.local' });
    const roots = await readFile(identity.rootCertFile);
    const client = new Client(formatHostPort(mesh.xds as HostPort), credentials.createSsl(roots, null, null, { checkServerIdentity: () => undefined }), {
      'grpc.ssl_target_name_override': 'weft-controlplane',
    });
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${ordersToken}`);
    const error = await new Promise<ServiceError | null>((resolve) =>
      client.makeUnaryRequest(createCertificateMethod.path, createCertificateMethod.requestSerialize, createCertificateMethod.responseDeserialize, CreateCertificateRequest.create({ csrPem }), metadata, (failure) => resolve(failure)),
    );
    client.close();
    assert.equal(error?.code, 7, 'PERMISSION_DENIED');
    assert.match(error?.details ?? '', /spiffe:\/\/cluster\.local\/ns\/default\/sa\/frontend/);
    const stats = JSON.parse((await httpGet(mesh.debug as HostPort, '/debug/ca')).text) as { refused: Record<string, number> };
    assert.ok((stats.refused.identity_mismatch ?? 0) >= 1);

    // A sidecar given orders' token that claims to be the frontend gets orders' certificate,
    // and the control plane refuses its claim.
    const impostor = new ManagedProcess('impostor', PROGRAMS.proxy, [
      '--xds-address', formatHostPort(mesh.xds as HostPort),
      '--workload', 'frontend',
      '--token-file', await identity.tokenFile('default', 'orders'),
      '--ca-root-cert', identity.rootCertFile,
      ...EPHEMERAL_PROXY_LISTENERS,
    ]);
    try {
      const obtained = await impostor.waitForLog((record) => record.msg === 'certificate obtained');
      assert.equal(obtained.identity, 'spiffe://cluster.local/ns/default/sa/orders');
      const refusal = await (mesh.controlPlane as ManagedProcess).waitForLog((record) => record.msg === 'proxy stream refused' && record.node === 'frontend.default');
      assert.match(String(refusal.error), /cannot speak for frontend, which runs as service account frontend/);
      const member = await meshCa.issue({ namespace: 'default', serviceAccount: 'client-a' });
      const presented = await tlsRequest(await impostor.listening('inbound'), member);
      assert.match(presented.peer?.subjectaltname ?? '', /URI:spiffe:\/\/cluster\.local\/ns\/default\/sa\/orders$/);
    } finally {
      await impostor.stop();
    }
  });

  it('the health port reports ready only with a certificate and configuration', async () => {
    const healthy = await httpGet(mesh.workload('frontend').health, '/healthz/ready');
    assert.equal(healthy.status, 200);
    // Nothing answers at the certificate service (port 9, discard): no certificate, not ready.
    const uncertified = new ManagedProcess('uncertified', PROGRAMS.proxy, [
      '--xds-address', formatHostPort(mesh.xds as HostPort),
      '--ca-address', '127.0.0.1:9',
      '--workload', 'client-a',
      '--token-file', await (mesh.identity as NonNullable<LoopbackMesh['identity']>).tokenFile('default', 'client-a'),
      '--ca-root-cert', (mesh.identity as NonNullable<LoopbackMesh['identity']>).rootCertFile,
      ...EPHEMERAL_PROXY_LISTENERS,
    ]);
    try {
      const health = await httpGet(await uncertified.listening('health'), '/healthz/ready');
      assert.equal(health.status, 503);
      assert.deepEqual(JSON.parse(health.text), { ready: false, reason: 'waiting for a certificate' });
    } finally {
      await uncertified.stop();
    }
  });

  it('a client sidecar refuses a server that presents a valid mesh certificate for another identity', async () => {
    const impostorCert = await meshCa.issue({ namespace: 'default', serviceAccount: 'impostor' });
    let requests = 0;
    const server = createTlsServer({ key: impostorCert.keyPem, cert: impostorCert.chainPem.join('\n'), ALPNProtocols: ['h2', 'http/1.1'] }, (socket) => {
      socket.on('data', () => {
        requests++;
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
      });
      socket.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = { host: '127.0.0.1', port: (server.address() as { port: number }).port };
    try {
      await rewrite([], withSidecarAddress(mesh.documents(), 'orders-1', address));
      const refused = await pollUntil('the client sidecar to refuse the impostor', 10_000, async () => {
        const response = await httpGet(frontend());
        return response.status === 502 ? response : undefined;
      });
      assert.match(refused.text, /peer is spiffe:\/\/cluster\.local\/ns\/default\/sa\/impostor, expected spiffe:\/\/cluster\.local\/ns\/default\/sa\/orders/);
      assert.equal(requests, 0, 'no request reached the impostor');
    } finally {
      await rewrite();
      server.close();
      await routed();
    }
  });

  it('AccessPolicy: ALLOW and DENY by principal, namespace, path and method — 403 exactly where expected', async () => {
    const policies: MeshDocument[] = [
      {
        apiVersion: API_VERSION,
        kind: 'AccessPolicy',
        metadata: { name: 'orders-readers', namespace: 'default' },
        spec: {
          selector: { matchLabels: { app: 'orders' } },
          action: 'ALLOW',
          rules: [
            { from: [{ source: { principals: ['cluster.local/ns/default/sa/client-a'] } }], to: [{ operation: { methods: ['GET'], paths: ['/orders/*'] } }] },
            { from: [{ source: { namespaces: ['default'] } }], to: [{ operation: { paths: ['/health'] } }] },
            { from: [{ source: { principals: ['spiffe://cluster.local/ns/default/sa/frontend'] } }] },
          ],
        },
      },
      {
        apiVersion: API_VERSION,
        kind: 'AccessPolicy',
        metadata: { name: 'no-secrets', namespace: 'default' },
        spec: { selector: { matchLabels: { app: 'orders' } }, action: 'DENY', rules: [{ to: [{ operation: { paths: ['/orders/secret*'] } }] }] },
      },
    ];
    await rewrite(policies);
    const call = async (client: string, method: string, path: string): Promise<number> => {
      const response = await httpRequest(mesh.workload(client).outbound, method, path, { host: 'orders.default:8080' });
      return response.status;
    };
    await pollUntil('policies in force', 10_000, async () => ((await call('client-b', 'GET', '/orders/1')) === 403 ? true : undefined));
    const cases: [string, string, string, number][] = [
      ['client-a', 'GET', '/orders/1', 200],
      ['client-a', 'POST', '/orders/1', 403],
      ['client-a', 'GET', '/admin', 403],
      ['client-a', 'GET', '/health', 200],
      ['client-a', 'GET', '/orders/secret-plans', 403],
      ['client-b', 'GET', '/orders/1', 403],
      ['client-b', 'GET', '/health', 200],
      ['client-c', 'GET', '/health', 403],
      ['client-c', 'GET', '/orders/1', 403],
    ];
    const outcomes = [];
    for (const [client, method, path] of cases) outcomes.push(await call(client, method, path));
    assert.deepEqual(outcomes, cases.map((entry) => entry[3]));
    const denied = await httpRequest(mesh.workload('client-a').outbound, 'GET', '/orders/secret-plans', { host: 'orders.default:8080' });
    assert.equal(denied.headers['weft-response-flags'], 'RBAC');
    assert.equal(denied.text, 'weft: access denied: denied by AccessPolicy default/no-secrets\n');
    assert.equal(answeredBy(await httpGet(frontend())), 'orders-1', 'the frontend is still allowed by its principal rule');
    await rewrite();
  });
});

describe('certificates with a lifetime of seconds', () => {
  it('are renewed again and again under 30 s of continuous traffic, without one failed request', async () => {
    const dir = await temporaryDirectory('rotation');
    const mesh = new LoopbackMesh({ dir: dir.path, certTtl: '4s' });
    try {
      await mesh.startControlPlane();
      const frontend = await startFrontendAndOrders(mesh);
      const issuedBefore = await issuedCount(mesh, 'orders-1');
      const failures: string[] = [];
      let ok = 0;
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        const response = await httpGet(frontend);
        if (response.status === 200) ok++;
        else failures.push(`${response.status} ${response.text}`);
      }
      assert.deepEqual(failures, []);
      assert.ok(ok > 300, `${ok} requests`);
      for (const name of ['frontend', 'orders-1']) {
        const renewals = (await issuedCount(mesh, name)) - (name === 'orders-1' ? issuedBefore : 1);
        assert.ok(renewals >= 8, `${name} renewed ${renewals} times in 30 s`);
      }
    } finally {
      await mesh.stop();
      await dir.remove();
    }
  });
});

async function issuedCount(mesh: LoopbackMesh, workload: string): Promise<number> {
  return (await certificateStatus(mesh, workload)).issued;
}
