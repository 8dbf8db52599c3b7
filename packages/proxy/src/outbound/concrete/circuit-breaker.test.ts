import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProxyError, ProxyErrorKind } from '../../errors.ts';
import { CircuitBreaker } from './circuit-breaker.ts';

const limits = (overrides: Partial<ConstructorParameters<typeof CircuitBreaker>[0]> = {}) => ({
  maxConnections: undefined,
  connectTimeoutMs: 5000,
  maxPendingRequests: undefined,
  maxRequests: undefined,
  maxRequestsPerConnection: undefined,
  maxRetries: undefined,
  idleTimeoutMs: 60_000,
  ...overrides,
});

const isOverflow = (error: unknown) => error instanceof ProxyError && error.kind === ProxyErrorKind.UPSTREAM_OVERFLOW;

describe('CircuitBreaker', () => {
  it('lets maxConnections through, queues maxPendingRequests, refuses the rest at once with UO', async () => {
    const breaker = new CircuitBreaker(limits({ maxConnections: 1, maxPendingRequests: 1 }));
    const signal = new AbortController().signal;
    const first = await breaker.admit('c', signal);
    let secondIn = false;
    const second = breaker.admit('c', signal).then((release) => {
      secondIn = true;
      return release;
    });
    await assert.rejects(breaker.admit('c', signal), isOverflow);
    assert.deepEqual(breaker.load, { active: 1, pending: 1 });
    assert.equal(secondIn, false);
    first();
    (await second)();
    assert.equal(secondIn, true);
    assert.deepEqual(breaker.load, { active: 0, pending: 0 });
    assert.equal(breaker.overflows, 1);
  });

  it('caps outstanding requests with maxRequests', async () => {
    const breaker = new CircuitBreaker(limits({ maxRequests: 2 }));
    const signal = new AbortController().signal;
    await breaker.admit('c', signal);
    await breaker.admit('c', signal);
    await assert.rejects(breaker.admit('c', signal), isOverflow);
  });

  it('drops a waiter whose caller gave up', async () => {
    const breaker = new CircuitBreaker(limits({ maxConnections: 1 }));
    const release = await breaker.admit('c', new AbortController().signal);
    const caller = new AbortController();
    const waiting = breaker.admit('c', caller.signal);
    caller.abort(new Error('gone'));
    await assert.rejects(waiting, /gone/);
    assert.deepEqual(breaker.load, { active: 1, pending: 0 });
    release();
    assert.deepEqual(breaker.load, { active: 0, pending: 0 });
  });
});
