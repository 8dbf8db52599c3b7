import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newContext, type Handler, type ProxyRequest } from '../../http/handler.ts';
import { weightedSplit } from './weighted-split.ts';

describe('weightedSplit', () => {
  it('sends each cluster its share of requests', async () => {
    const counts = new Map<string, number>();
    const dispatch: Handler = (_request, context) => {
      counts.set(context.clusterName ?? '', (counts.get(context.clusterName ?? '') ?? 0) + 1);
      return Promise.resolve({ status: 200, headers: {}, body: null });
    };
    let roll = 0;
    const split = weightedSplit([{ cluster: 'v1', weight: 90 }, { cluster: 'v2', weight: 10 }], dispatch, () => (roll++ % 100) / 100);
    for (let i = 0; i < 1000; i++) await split({} as ProxyRequest, newContext('outbound'));
    assert.deepEqual(Object.fromEntries(counts), { v1: 900, v2: 100 });
  });
});
