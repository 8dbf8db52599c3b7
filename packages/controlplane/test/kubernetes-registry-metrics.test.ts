// What the Kubernetes registry counts, against the API test double: informer events by resource
// and event, the lag from an event to the model built from it, rebuilds, custom resources left
// out, and a failed watch.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger, pollUntil } from '@weft/runtime';
import { ControlPlaneMetrics } from '../src/metrics/controlplane-metrics.ts';
import { KubernetesRegistry } from '../src/registry/kubernetes/kubernetes-registry.ts';
import { KubeApiDouble } from './kube-api-double.ts';
import { customResource, ordersCluster, service } from './kube-objects.ts';
import { sample } from './prometheus-text.ts';

const log = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
const EXTRA = 'extra.default.svc.cluster.local';

describe('Kubernetes registry metrics', () => {
  let api: KubeApiDouble;
  let registry: KubernetesRegistry;
  const metrics = new ControlPlaneMetrics();
  const scrape = (): Promise<string> => metrics.prometheus.metrics();
  const serviceEvents = async (event: string): Promise<number> => sample(await scrape(), `weft_controlplane_informer_events_total{resource="services",event="${event}"}`);

  before(async () => {
    api = await KubeApiDouble.start({ bookmarkIntervalMs: 200 });
    for (const object of ordersCluster()) api.apply(object);
    registry = new KubernetesRegistry({ kubeConfig: api.kubeConfig(), log, backoff: { baseMs: 20, maxMs: 200 }, settleMs: 5, metrics: metrics.forRegistry('kubernetes') });
    await registry.start();
  });

  after(async () => {
    registry?.stop();
    await api?.stop();
  });

  it('counts the initial list as add events, and one rebuild without a lag', async () => {
    const text = await scrape();
    assert.equal(sample(text, 'weft_controlplane_informer_events_total{resource="services",event="add"}'), api.list('v1', 'Service').length);
    assert.equal(sample(text, 'weft_controlplane_informer_events_total{resource="pods",event="add"}'), 3);
    assert.equal(sample(text, 'weft_controlplane_informer_events_total{resource="endpointslices",event="add"}'), 2);
    assert.equal(sample(text, 'weft_controlplane_registry_rebuilds_total{registry="kubernetes"}'), 1);
    assert.equal(sample(text, 'weft_controlplane_registry_update_lag_seconds_count{registry="kubernetes"}'), 0);
    assert.equal(sample(text, 'weft_controlplane_registry_rejected_resources{registry="kubernetes"}'), 0);
  });

  it('counts add, update and delete events, and times each from the event to the model built from it', async () => {
    const adds = await serviceEvents('add');
    api.apply(service('extra', [{ name: 'http', port: 80, targetPort: 8080 }]));
    await pollUntil('extra in the model', 10_000, () => (registry.current().services.has(EXTRA) ? true : undefined));
    assert.equal(await serviceEvents('add'), adds + 1);

    api.apply(service('extra', [{ name: 'http', port: 81, targetPort: 8080 }]));
    await pollUntil('extra on port 81', 10_000, () => (registry.current().services.get(EXTRA)?.ports[0]?.port === 81 ? true : undefined));
    assert.equal(await serviceEvents('update'), 1);

    api.delete('v1', 'Service', 'default', 'extra');
    await pollUntil('extra gone', 10_000, () => (registry.current().services.has(EXTRA) ? undefined : true));
    assert.equal(await serviceEvents('delete'), 1);

    const text = await scrape();
    assert.equal(sample(text, 'weft_controlplane_registry_update_lag_seconds_count{registry="kubernetes"}'), 3, 'one lag per event (each waited for)');
    assert.equal(sample(text, 'weft_controlplane_registry_rebuilds_total{registry="kubernetes"}'), 4);
  });

  it('shows custom resources left out of the model', async () => {
    api.apply(customResource('TrafficRoute', 'bad-host', { hosts: ['nope'], http: [{ route: [{ destination: { host: 'orders' } }] }] }));
    await pollUntil('the route refused', 10_000, async () => (sample(await scrape(), 'weft_controlplane_registry_rejected_resources{registry="kubernetes"}') === 1 ? true : undefined));
    api.delete('mesh.weft.dev/v1alpha1', 'TrafficRoute', 'default', 'bad-host');
    await pollUntil('no route refused', 10_000, async () => (sample(await scrape(), 'weft_controlplane_registry_rejected_resources{registry="kubernetes"}') === 0 ? true : undefined));
  });

  it('counts a failed watch as an error event of its resource', async () => {
    api.failNext({ method: 'GET', path: /^\/api\/v1\/services$/, watch: true }, 500);
    api.dropWatches();
    await pollUntil('the services watch error counted', 10_000, async () => {
      const text = await scrape();
      return text.includes('weft_controlplane_informer_events_total{resource="services",event="error"}') ? sample(text, 'weft_controlplane_informer_events_total{resource="services",event="error"}') : undefined;
    });
  });
});
