// Protocol test: a real proxy process against the control plane's ADS server, fed snapshots
// the test controls. A response the proxy cannot apply is NACKed: the proxy keeps its previous
// configuration, the control plane records which proxy rejected what, and does not send the
// rejected version again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { EPHEMERAL_PROXY_LISTENERS, ManagedProcess, PROGRAMS } from '@weft/cli';
import { AdsServer, ResourceSetBuilder, type ProxySnapshot, type Rejection } from '@weft/controlplane';
import { aggregatedDiscoveryService, ResourceType, weft, type ResourceKind } from '@weft/proto';
import { createLogger } from '@weft/runtime';
import { httpGet } from './helpers.ts';

const CLUSTER = 'outbound|8080||orders.default.svc.cluster.local';

function snapshot(lbPolicy: weft.config.v1.LbPolicy, port = 8080): ProxySnapshot {
  const empty = (kind: ResourceKind) => new ResourceSetBuilder(ResourceType[kind]).build();
  return {
    accessPolicy: empty('accessPolicy'),
    cluster: new ResourceSetBuilder(ResourceType.cluster).add(CLUSTER, { name: CLUSTER, service: 'orders.default.svc.cluster.local', port, lbPolicy }).build(),
    endpoints: empty('endpoints'),
    listener: empty('listener'),
    route: empty('route'),
    trustBundle: empty('trustBundle'),
  };
}

/** Events from the ADS server, awaited in order. */
class EventLog {
  private readonly events: { type: 'ack' | 'nack'; kind: ResourceKind; version: string; rejection?: Rejection }[] = [];
  private wake: (() => void) | undefined;
  push(event: (typeof this.events)[number]): void {
    this.events.push(event);
    this.wake?.();
  }
  async next(predicate: (event: (typeof this.events)[number]) => boolean, timeoutMs = 10_000): Promise<(typeof this.events)[number]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching ADS event; saw ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
  count(type: 'ack' | 'nack', kind: ResourceKind): number {
    return this.events.filter((event) => event.type === type && event.kind === kind).length;
  }
}

describe('NACK handling between control plane and proxy', () => {
  const events = new EventLog();
  const ads = new AdsServer({
    log: createLogger('test', 'silent'),
    events: {
      onAck: (_proxy, kind, version) => events.push({ type: 'ack', kind, version }),
      onNack: (_proxy, kind, rejection) => events.push({ type: 'nack', kind, version: rejection.version, rejection }),
    },
  });
  const server = new Server();
  let proxy: ManagedProcess;

  before(async () => {
    server.addService(aggregatedDiscoveryService, ads.implementation());
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
    ads.publish({ snapshotFor: () => snapshot(weft.config.v1.LbPolicy.ROUND_ROBIN) });
    proxy = new ManagedProcess('proxy', PROGRAMS.proxy, ['--xds-address', `127.0.0.1:${port}`, '--workload', 'frontend', '--discovery', 'all', ...EPHEMERAL_PROXY_LISTENERS]);
  });

  after(async () => {
    await proxy?.stop();
    server.forceShutdown();
  });

  it('keeps the previous configuration, and the control plane names the proxy and the problem', async () => {
    const good = snapshot(weft.config.v1.LbPolicy.ROUND_ROBIN);
    await events.next((event) => event.type === 'ack' && event.kind === 'cluster' && event.version === good.cluster.version);

    const bad = snapshot(weft.config.v1.LbPolicy.RING_HASH);
    ads.publish({ snapshotFor: () => bad });
    const nack = await events.next((event) => event.type === 'nack');
    assert.equal(nack.kind, 'cluster');
    assert.equal(nack.version, bad.cluster.version);
    assert.match(nack.rejection?.message ?? '', /outbound\|8080\|\|orders\.default\.svc\.cluster\.local: RING_HASH and a consistent hash key go together/);

    const [status] = ads.status();
    assert.equal(status?.id, 'frontend.default');
    assert.equal(status?.types.cluster?.acked, good.cluster.version);
    assert.equal(status?.types.cluster?.rejection?.version, bad.cluster.version);

    const admin = await proxy.listening('admin');
    const dump = JSON.parse((await httpGet(admin, '/config_dump')).text) as { configs: { cluster: { version: string; resources: Record<string, { config: { lbPolicy: string } }> } }; xds: { rejected: number } };
    assert.equal(dump.configs.cluster.version, good.cluster.version);
    assert.equal(dump.configs.cluster.resources[CLUSTER]?.config.lbPolicy, 'ROUND_ROBIN');
    assert.equal(dump.xds.rejected, 1);
    const log = await proxy.waitForLog((record) => record.msg === 'configuration rejected');
    assert.equal(log.keeps, good.cluster.version);
  });

  it('does not send a rejected version again, but does send the next change', async () => {
    // The same rejected content published again must not go out; the stream is ordered, so if it
    // did, its NACK would arrive before the ACK of the change published after it.
    ads.publish({ snapshotFor: () => snapshot(weft.config.v1.LbPolicy.RING_HASH) });
    const next = snapshot(weft.config.v1.LbPolicy.LEAST_REQUEST);
    ads.publish({ snapshotFor: () => next });
    await events.next((event) => event.type === 'ack' && event.kind === 'cluster' && event.version === next.cluster.version);
    assert.equal(events.count('nack', 'cluster'), 1);
    assert.equal(ads.status()[0]?.types.cluster?.rejection, undefined);
  });
});
