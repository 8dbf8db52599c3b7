import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, credentials, Metadata, Server, ServerCredentials, type ServiceError } from '@grpc/grpc-js';
import { generateKeyAndCsr, inspectCertificate, loadOrCreateCa, type CertificateAuthority } from '@weft/ca';
import { certificateService, createCertificateMethod, CreateCertificateRequest, type CreateCertificateResponse } from '@weft/proto';
import { createLogger } from '@weft/runtime';
import { BootstrapTokenAuthenticator, newBootstrapToken } from './bootstrap-tokens.ts';
import { certificateServiceImplementation, type IssuanceStats } from './certificate-service.ts';
import { IssuedCertificates } from './issued-certificates.ts';
import { RateLimiter } from './rate-limiter.ts';

describe('certificate service', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let client: Client;
  const server = new Server();
  const stats: IssuanceStats = { issued: 0, refused: {} };
  const issued = new IssuedCertificates();
  const orders = newBootstrapToken({ namespace: 'default', serviceAccount: 'orders' });
  const chatty = newBootstrapToken({ namespace: 'default', serviceAccount: 'chatty' });
  const reporter = newBootstrapToken({ namespace: 'default', serviceAccount: 'reporter' });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'weft-ca-service-'));
    ca = await loadOrCreateCa(join(dir, 'ca'));
    const digest = (entry: string): string => /sha256: ([0-9a-f]{64})/.exec(entry)?.[1] as string;
    server.addService(
      certificateService,
      certificateServiceImplementation({
        ca: () => ca,
        authenticator: BootstrapTokenAuthenticator.of([
          { sha256: digest(orders.entry), identity: { namespace: 'default', serviceAccount: 'orders' } },
          { sha256: digest(chatty.entry), identity: { namespace: 'default', serviceAccount: 'chatty' } },
          { sha256: digest(reporter.entry), identity: { namespace: 'default', serviceAccount: 'reporter' } },
        ]),
        limiter: new RateLimiter({ burst: 3, perSecond: 0.001 }),
        log: createLogger('test', 'silent'),
        stats,
        issued,
      }),
    );
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  after(async () => {
    client.close();
    server.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  });

  function call(token: string | undefined, csrPem: string, ttlSeconds = 0, proxyId = ''): Promise<{ error: ServiceError | null; response: CreateCertificateResponse | undefined }> {
    const metadata = new Metadata();
    if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
    return new Promise((resolve) =>
      client.makeUnaryRequest(createCertificateMethod.path, createCertificateMethod.requestSerialize, createCertificateMethod.responseDeserialize, CreateCertificateRequest.create({ csrPem, ttlSeconds, proxyId }), metadata, (error, response) => resolve({ error, response })),
    );
  }

  it("issues a chain for the token's identity, with the trust bundle", async () => {
    const { csrPem } = await generateKeyAndCsr();
    const { error, response } = await call(orders.token, csrPem, 3600);
    assert.equal(error, null);
    const leaf = inspectCertificate(response?.certificateChainPem[0] ?? '');
    assert.deepEqual(leaf.spiffeIds, ['spiffe://cluster.local/ns/default/sa/orders']);
    assert.ok(Math.abs(leaf.notAfter.getTime() - Date.now() - 3600_000) < 120_000);
    assert.deepEqual(response?.trustBundlePem, [...ca.trustBundle()]);
  });

  it('records which proxy holds which certificate, believing a proxy id only inside the caller\'s namespace', async () => {
    const { csrPem } = await generateKeyAndCsr();
    const { response } = await call(reporter.token, csrPem, 3600, 'reporter-1.default');
    await call(reporter.token, csrPem, 3600, 'reporter-1.payments');
    const leaf = inspectCertificate(response?.certificateChainPem[0] ?? '');
    const records = issued.list();
    assert.deepEqual(
      records.map(({ proxy, spiffeId, serialNumber, notAfter }) => ({ proxy, spiffeId, serialNumber, notAfter })),
      [{ proxy: 'reporter-1.default', spiffeId: 'spiffe://cluster.local/ns/default/sa/reporter', serialNumber: leaf.serialNumber, notAfter: leaf.notAfter.toISOString() }],
    );
  });

  it('refuses a missing or unknown token, another identity, a bad CSR, and floods — each counted', async () => {
    const { csrPem } = await generateKeyAndCsr();
    assert.equal((await call(undefined, csrPem)).error?.code, 16, 'UNAUTHENTICATED');
    assert.equal((await call('not-a-token', csrPem)).error?.code, 16, 'UNAUTHENTICATED');
    const other = await generateKeyAndCsr({ identity: { namespace: 'default', serviceAccount: 'payments' }, trustDomain: 'cluster.local' });
    const mismatch = (await call(orders.token, other.csrPem)).error;
    assert.equal(mismatch?.code, 7, 'PERMISSION_DENIED');
    assert.match(mismatch?.details ?? '', /payments/);
    const malformed = (await call(orders.token, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n')).error;
    assert.equal(malformed?.code, 3, 'INVALID_ARGUMENT');
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await call(chatty.token, csrPem)).error?.code ?? 0);
    assert.deepEqual(codes, [0, 0, 0, 8], 'RESOURCE_EXHAUSTED after the burst');
    assert.deepEqual(stats.refused, { unauthenticated: 2, identity_mismatch: 1, invalid_csr: 1, rate_limited: 1 });
    assert.equal(stats.issued, 6);
  });
});
