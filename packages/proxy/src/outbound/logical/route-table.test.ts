import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourceKindsInPushOrder, ResourceType } from '@weft/proto';
import { ConfigStore } from '../../config/config-store.ts';
import { ProxyError, ProxyErrorKind } from '../../errors.ts';
import { OnDemandDiscovery } from '../../xds/on-demand-discovery.ts';
import type { Handler } from '../../http/handler.ts';
import { RouteTable } from './route-table.ts';

/** A store that has received every type once, empty, as an on-demand proxy's first responses. */
function emptyStore(): ConfigStore {
  const store = new ConfigStore();
  for (const kind of resourceKindsInPushOrder) store.apply(kind, ResourceType[kind].typeUrl, 'v0', []);
  return store;
}

const unreachable: Handler = () => Promise.reject(new Error('not called'));
const budgets = { tryStartRetry: () => true, retryFinished: () => undefined } as never;
const destination = { address: '10.96.0.10', port: 8080 };

describe('RouteTable.virtualHostAt with on-demand discovery', () => {
  it('refuses with NCFG when the control plane has not answered about a captured destination', async () => {
    const store = emptyStore();
    const discovery = new OnDemandDiscovery(store, { answerTimeoutMs: 50 });
    const table = new RouteTable(store, unreachable, budgets, discovery);
    // No control plane answers: not "outside the mesh" (which would be passed through), but unknown.
    await assert.rejects(table.virtualHostAt(destination), (error: unknown) => error instanceof ProxyError && error.kind === ProxyErrorKind.NO_CONFIG);
  });

  it('says "no service" once the control plane answered that there is none', async () => {
    const store = emptyStore();
    const discovery = new OnDemandDiscovery(store, { answerTimeoutMs: 5_000 });
    const table = new RouteTable(store, unreachable, budgets, discovery);
    const pending = table.virtualHostAt(destination);
    discovery.answer('route', ['10.96.0.10:8080']);
    assert.equal(await pending, undefined);
  });
});
