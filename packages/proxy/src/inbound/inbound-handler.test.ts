import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RESPONSE_FLAGS_HEADER } from '../errors.ts';
import { newContext, PLAINTEXT, type ProxyResponse } from '../http/handler.ts';
import type { UpstreamPools } from '../outbound/endpoint/upstream-pools.ts';
import type { InboundAdmission } from './inbound-admission.ts';
import { inboundHandler } from './inbound-handler.ts';

function handlerAnswering(response: ProxyResponse) {
  const admission = { admit: () => ({ port: 8080, protocol: 'HTTP' }) } as unknown as InboundAdmission;
  const pools = { get: () => ({ send: () => Promise.resolve(response) }) } as unknown as UpstreamPools;
  const handler = inboundHandler({ admission, pools, appHost: '127.0.0.1', workload: 'orders-1.default', trustPlaintextMetadata: false });
  return handler({ method: 'GET', path: '/', authority: 'orders:8080', headers: {}, body: null, signal: new AbortController().signal, connection: PLAINTEXT, remoteAddress: '127.0.0.1' }, newContext('inbound'));
}

describe('inboundHandler', () => {
  it('drops a response flag the application set: only sidecars speak for UC and UF, which callers retry on', async () => {
    const response = await handlerAnswering({ status: 503, headers: { [RESPONSE_FLAGS_HEADER]: 'UF', 'x-app': '1' }, body: null });
    assert.equal(response.status, 503);
    assert.deepEqual(response.headers, { 'x-app': '1' });
  });

  it('passes the application\'s headers through untouched otherwise', async () => {
    const headers = { 'x-app': '1' };
    assert.equal((await handlerAnswering({ status: 200, headers, body: null })).headers, headers);
  });
});
