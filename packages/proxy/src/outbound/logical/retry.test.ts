import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { RetryPolicyConfig } from '../../config/resources/route-policies.ts';
import { ProxyError, ProxyErrorKind, RESPONSE_FLAGS_HEADER } from '../../errors.ts';
import { newContext, PLAINTEXT, type Handler, type ProxyRequest } from '../../http/handler.ts';
import { ATTEMPT_COUNT_HEADER, retryLayer, type RetryBudgets } from './retry.ts';

const policy = (overrides: Partial<RetryPolicyConfig> = {}): RetryPolicyConfig => ({
  attempts: 2,
  perTryTimeoutMs: 0,
  retryOn: new Set(['5xx']),
  retriableStatusCodes: new Set(),
  backoffBaseMs: 1,
  backoffMaxMs: 2,
  ...overrides,
});

const request = (body: Readable | null = null, headers: Record<string, string> = {}): ProxyRequest => ({
  method: 'POST',
  path: '/',
  authority: 'orders:8080',
  headers,
  body,
  signal: new AbortController().signal,
  connection: PLAINTEXT,
  remoteAddress: '127.0.0.1',
});

const unlimited: RetryBudgets = { startRetry: () => () => undefined };

function scripted(statuses: (number | ProxyError)[]): { handler: Handler; seen: { attempt: string; body: string }[] } {
  const seen: { attempt: string; body: string }[] = [];
  let call = 0;
  const handler: Handler = async (req) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req.body ?? []) chunks.push(chunk as Buffer);
    seen.push({ attempt: String(req.headers[ATTEMPT_COUNT_HEADER]), body: Buffer.concat(chunks).toString() });
    const next = statuses[Math.min(call++, statuses.length - 1)] as number | ProxyError;
    if (next instanceof ProxyError) throw next;
    return { status: next, headers: {}, body: Readable.from([]) };
  };
  return { handler, seen };
}

describe('retryLayer', () => {
  it('retries a matching outcome with the body replayed and an attempt count', async () => {
    const { handler, seen } = scripted([503, new ProxyError(ProxyErrorKind.UPSTREAM_RESET, 'reset'), 200]);
    const response = await retryLayer(policy(), unlimited)(handler)(request(Readable.from([Buffer.from('order=1')])), newContext('outbound'));
    assert.equal(response.status, 200);
    assert.deepEqual(seen, [
      { attempt: '1', body: 'order=1' },
      { attempt: '2', body: 'order=1' },
      { attempt: '3', body: 'order=1' },
    ]);
  });

  it('stops after the attempts, flagging URX, and does not retry what retryOn does not name', async () => {
    const exhausted = scripted([503]);
    const context = newContext('outbound');
    assert.equal((await retryLayer(policy(), unlimited)(exhausted.handler)(request(), context)).status, 503);
    assert.equal(exhausted.seen.length, 3);
    assert.equal(context.flag, 'URX');
    const notRetried = scripted([404]);
    assert.equal((await retryLayer(policy(), unlimited)(notRetried.handler)(request(), newContext('outbound'))).status, 404);
    assert.equal(notRetried.seen.length, 1);
  });

  it('retries connect failures, gateway errors, listed codes and gRPC statuses as configured', async () => {
    const cases: [Partial<RetryPolicyConfig>, number | ProxyError][] = [
      [{ retryOn: new Set(['connect-failure']) }, new ProxyError(ProxyErrorKind.UPSTREAM_CONNECT_FAILURE, 'refused')],
      [{ retryOn: new Set(['gateway-error']) }, 504],
      [{ retryOn: new Set(['retriable-status-codes']), retriableStatusCodes: new Set([429]) }, 429],
      [{ retryOn: new Set(['retriable-4xx']) }, 409],
    ];
    for (const [overrides, first] of cases) {
      const { handler, seen } = scripted([first, 200]);
      assert.equal((await retryLayer(policy(overrides), unlimited)(handler)(request(), newContext('outbound'))).status, 200);
      assert.equal(seen.length, 2);
    }
    let calls = 0;
    const grpc: Handler = () => Promise.resolve({ status: 200, headers: calls++ === 0 ? { 'grpc-status': '14' } : { 'grpc-status': '0' }, body: Readable.from([]) });
    await retryLayer(policy({ retryOn: new Set(['unavailable']) }), unlimited)(grpc)(request(), newContext('outbound'));
    assert.equal(calls, 2);
  });

  it("treats a peer sidecar's 503 UC as reset and 503 UF as connect-failure, but not an unverified upstream's", async () => {
    const cases: [condition: string, flag: string, peer: string | undefined, tries: number][] = [
      ['reset', 'UC', 'spiffe://cluster.local/ns/default/sa/orders', 2],
      ['connect-failure', 'UF', 'spiffe://cluster.local/ns/default/sa/orders', 2],
      ['reset', 'UF', 'spiffe://cluster.local/ns/default/sa/orders', 1],
      ['connect-failure', 'UC', 'spiffe://cluster.local/ns/default/sa/orders', 1],
      ['reset', 'UC', undefined, 1],
    ];
    for (const [condition, flag, upstreamPeer, tries] of cases) {
      let calls = 0;
      const handler: Handler = () => Promise.resolve(++calls === 1 ? { status: 503, headers: { [RESPONSE_FLAGS_HEADER]: flag }, body: null, upstreamPeer } : { status: 200, headers: {}, body: null });
      const response = await retryLayer(policy({ retryOn: new Set([condition as 'reset']) }), unlimited)(handler)(request(), newContext('outbound'));
      assert.equal(calls, tries, `${condition} after 503 ${flag} from ${upstreamPeer ?? 'an unverified upstream'}`);
      assert.equal(response.status, tries === 2 ? 200 : 503);
    }
  });

  it('does not retry when the budget is spent', async () => {
    const { handler, seen } = scripted([503]);
    const context = newContext('outbound');
    const response = await retryLayer(policy(), { startRetry: () => undefined })(handler)(request(), context);
    assert.equal(response.status, 503);
    assert.equal(seen.length, 1);
    assert.equal(context.flag, 'URX');
  });

  it('sends a body larger than the buffer cap once, without retrying', async () => {
    const { handler, seen } = scripted([503, 200]);
    const big = Buffer.alloc(100 * 1024, 'a');
    const response = await retryLayer(policy(), unlimited)(handler)(request(Readable.from([big]), { 'content-length': String(big.length) }), newContext('outbound'));
    assert.equal(response.status, 503);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.body.length, big.length);
  });

  it('gives each attempt its own per-try timeout and retries after it', async () => {
    let calls = 0;
    const slowThenFast: Handler = (req) =>
      calls++ === 0
        ? new Promise((_resolve, reject) => req.signal.addEventListener('abort', () => reject(req.signal.reason as Error), { once: true }))
        : Promise.resolve({ status: 200, headers: {}, body: Readable.from([]) });
    const response = await retryLayer(policy({ perTryTimeoutMs: 20, retryOn: new Set(['gateway-error']) }), unlimited)(slowThenFast)(request(), newContext('outbound'));
    assert.equal(response.status, 200);
    assert.equal(calls, 2);
  });
});
