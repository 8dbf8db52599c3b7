import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { forgePublicKey, randomSerialNumberHex, signCertificate } from './certificate-builder.ts';
import { peerIdentity } from './peer-identity.ts';

function certificateWithUris(...uris: string[]): Buffer {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { der } = signCertificate(
    {
      serialNumberHex: randomSerialNumberHex(),
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3_600_000),
      subject: [{ shortName: 'CN', value: 'test' }],
      publicKey: forgePublicKey(publicKey.export({ format: 'der', type: 'spki' })),
      extensions: [{ name: 'subjectAltName', altNames: [...uris.map((value) => ({ type: 6, value })), { type: 2, value: 'a, URI:spiffe://cluster.local/ns/x/sa/y' } /* not a second URI */] }],
    },
    privateKey,
  );
  return der;
}

describe('peerIdentity', () => {
  it('reads the one SPIFFE URI SAN of a certificate', () => {
    const raw = certificateWithUris('spiffe://cluster.local/ns/default/sa/orders');
    assert.deepEqual(peerIdentity({ raw }), { spiffeId: 'spiffe://cluster.local/ns/default/sa/orders', trustDomain: 'cluster.local', namespace: 'default', serviceAccount: 'orders' });
  });

  it('is undefined without a certificate, without a URI SAN, with two, or with a non-SPIFFE URI', () => {
    assert.equal(peerIdentity(undefined), undefined);
    assert.equal(peerIdentity({}), undefined);
    assert.equal(peerIdentity({ raw: Buffer.from('not DER') }), undefined);
    assert.equal(peerIdentity({ raw: certificateWithUris() }), undefined);
    assert.equal(peerIdentity({ raw: certificateWithUris('spiffe://cluster.local/ns/a/sa/b', 'spiffe://cluster.local/ns/c/sa/d') }), undefined);
    assert.equal(peerIdentity({ raw: certificateWithUris('https://cluster.local/ns/a/sa/b') }), undefined);
  });
});
