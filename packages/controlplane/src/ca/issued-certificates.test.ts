import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IssuedCertificate } from '@weft/ca';
import { IssuedCertificates } from './issued-certificates.ts';

function certificate(serialNumber: string, notAfter: string): IssuedCertificate {
  return { certificatePem: '', chainPem: [], spiffeId: 'spiffe://cluster.local/ns/default/sa/orders', serialNumber, notBefore: new Date('2030-01-01T00:00:00Z'), notAfter: new Date(notAfter) };
}

describe('IssuedCertificates', () => {
  it('keeps the latest certificate per proxy and forgets expired ones', () => {
    const issued = new IssuedCertificates();
    const at = (iso: string) => new Date(iso);
    issued.record('orders-1.default', 'default', certificate('01', '2030-01-02T00:00:00Z'), at('2030-01-01T00:00:00Z'));
    issued.record('orders-2.default', 'default', certificate('02', '2030-01-01T12:00:00Z'), at('2030-01-01T00:00:00Z'));
    issued.record('orders-1.default', 'default', certificate('03', '2030-01-03T00:00:00Z'), at('2030-01-01T13:00:00Z'));
    assert.deepEqual(
      issued.list().map((record) => [record.proxy, record.serialNumber, record.issuedAt]),
      [['orders-1.default', '03', '2030-01-01T13:00:00.000Z']],
      'orders-2 expired at noon and is forgotten',
    );
  });

  it('ignores a proxy id outside the caller\'s namespace or not shaped like one', () => {
    const issued = new IssuedCertificates();
    for (const id of ['orders-1.payments', '', 'Orders.default', `${'a'.repeat(400)}.default`]) issued.record(id, 'default', certificate('01', '2999-01-01T00:00:00Z'));
    assert.deepEqual(issued.list(), []);
  });
});
