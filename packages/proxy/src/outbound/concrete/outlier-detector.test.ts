import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointConfig } from '../../config/resources/endpoints.ts';
import { newEndpointState, type EndpointState } from './balancers.ts';
import { OutlierDetector } from './outlier-detector.ts';

function endpoints(count: number): EndpointState[] {
  return Array.from({ length: count }, (_, index) => {
    const address = `10.0.0.${index + 1}`;
    const config: EndpointConfig = { address, port: 80, labels: {}, weight: 1, ready: true, workload: address, connectHost: address, connectPort: 80, viaSidecar: false, mtls: false };
    return newEndpointState(config);
  });
}

const settings = { consecutive5xx: 3, consecutiveGatewayErrors: 0, intervalMs: 1000, baseEjectionMs: 10_000, maxEjectionPercent: 50, minHealthPercent: 0 };

describe('OutlierDetector', () => {
  it('ejects after N consecutive 5xx, for longer each time, and lets the endpoint back', (t) => {
    t.mock.timers.enable({ apis: ['setInterval', 'Date'] });
    const all = endpoints(3);
    const bad = all[0] as EndpointState;
    const detector = new OutlierDetector(settings, () => Date.now());
    detector.track(all);
    detector.record(bad, { status: 503 });
    detector.record(bad, { status: 200 });
    detector.record(bad, { status: 503 });
    detector.record(bad, { status: 500 });
    assert.equal(detector.usable(all).length, 3, 'a success in between resets the count');
    detector.record(bad, { status: undefined });
    assert.deepEqual(detector.usable(all), all.slice(1), 'three in a row eject it');
    t.mock.timers.tick(10_000);
    assert.equal(detector.usable(all).length, 3, 'back after baseEjectionTime');
    for (let i = 0; i < 3; i++) detector.record(bad, { status: 502 });
    t.mock.timers.tick(10_000);
    assert.equal(detector.usable(all).length, 2, 'the second ejection lasts longer');
    t.mock.timers.tick(10_000);
    assert.equal(detector.usable(all).length, 3);
    assert.equal(detector.ejectionsTotal, 2);
    detector.stop();
  });

  it('never ejects more than maxEjectionPercent, and panics below minHealthPercent', (t) => {
    t.mock.timers.enable({ apis: ['setInterval', 'Date'] });
    const all = endpoints(4);
    const detector = new OutlierDetector({ ...settings, maxEjectionPercent: 50, minHealthPercent: 60 });
    detector.track(all);
    for (const endpoint of all) for (let i = 0; i < 3; i++) detector.record(endpoint, { status: 503 });
    assert.equal(all.filter((endpoint) => endpoint.health.ejectedUntil !== undefined).length, 2);
    assert.equal(detector.usable(all).length, 4, '50% healthy is below 60%: balance across all');
    detector.stop();
  });
});
