// The CA in a Secret (cacerts layout): created once, then loaded by every replica; two replicas
// racing to create it end up with the same CA; an incomplete Secret is a clear error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@weft/runtime';
import { loadOrCreateCaSecret } from '../src/kubernetes/ca-secret.ts';
import { KubeApiDouble } from './kube-api-double.ts';

const log = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');

describe('CA Secret', () => {
  let api: KubeApiDouble;

  before(async () => {
    api = await KubeApiDouble.start();
  });

  after(() => api?.stop());

  const load = (name: string) => loadOrCreateCaSecret({ kubeConfig: api.kubeConfig(), namespace: 'weft-system', name, settings: {}, log });

  it('two replicas starting together share one CA: the loser of the create race loads the winner’s', async () => {
    const [a, b] = await Promise.all([load('weft-ca'), load('weft-ca')]);
    assert.deepEqual(a.trustBundle(), b.trustBundle());
    const creates = api.requests.filter((request) => request.method === 'POST' && request.path.endsWith('/secrets'));
    assert.equal(creates.length, 2, 'both tried to create it');
    const later = await load('weft-ca');
    assert.deepEqual(later.trustBundle(), a.trustBundle(), 'a restart loads the stored CA');
  });

  it('refuses a Secret without the cacerts files, naming what is missing', async () => {
    api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'half', namespace: 'weft-system' }, data: { 'ca-cert.pem': Buffer.from('x').toString('base64') } });
    await assert.rejects(load('half'), /Secret weft-system\/half lacks ca-key\.pem, root-cert\.pem, cert-chain\.pem/);
  });
});
