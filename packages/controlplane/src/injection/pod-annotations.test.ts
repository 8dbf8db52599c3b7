import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldError } from '../registry/field.ts';
import { InjectionSettingsError, resolveInjectionSettings } from './injection-settings.ts';
import { readSidecarOptions } from './pod-annotations.ts';
import { parseQuantity } from './quantity.ts';

const settings = resolveInjectionSettings();

function refusal(annotations: Record<string, string>): string {
  try {
    readSidecarOptions(annotations, settings);
  } catch (error) {
    assert.ok(error instanceof FieldError, String(error));
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(annotations)}`);
}

describe('parseQuantity', () => {
  it('reads the Kubernetes quantity grammar', () => {
    const cases: [string, number][] = [['50m', 0.05], ['1', 1], ['0.5', 0.5], ['.5', 0.5], ['2k', 2000], ['64Mi', 64 * 2 ** 20], ['1Gi', 2 ** 30], ['1e3', 1000], ['1E-3', 0.001], ['100u', 1e-4]];
    for (const [text, value] of cases) assert.ok(Math.abs((parseQuantity(text)?.value ?? NaN) - value) < 1e-12, text);
  });

  it('refuses what the API server would refuse, and zero', () => {
    for (const text of ['', 'abc', '100 m', '-1', '1mi', '1KiB', '0', '0m', '1.2.3', 'm']) assert.equal(parseQuantity(text), undefined, text);
  });
});

describe('readSidecarOptions', () => {
  it('without annotations: the settings', () => {
    assert.deepEqual(readSidecarOptions({}, settings), {
      capture: { excludeInboundPorts: [], excludeOutboundPorts: [], excludeOutboundCidrs: [], includeOutboundCidrs: undefined },
      resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1000m', memory: '256Mi' } },
      logLevel: 'info',
    });
  });

  it('reads ports and CIDR lists, tolerating spaces and repeats; a bare address is one host', () => {
    const options = readSidecarOptions(
      {
        'weft.dev/exclude-inbound-ports': '8081, 9090,8081,',
        'weft.dev/exclude-outbound-ports': '5432',
        'weft.dev/exclude-outbound-cidrs': '169.254.169.254, 10.0.0.0/8, fd00::/8, ::1',
        'weft.dev/include-outbound-cidrs': '10.96.0.0/12',
      },
      settings,
    );
    assert.deepEqual(options.capture, {
      excludeInboundPorts: [8081, 9090],
      excludeOutboundPorts: [5432],
      excludeOutboundCidrs: ['169.254.169.254/32', '10.0.0.0/8', 'fd00::/8', '::1/128'],
      includeOutboundCidrs: ['10.96.0.0/12'],
    });
    assert.equal(readSidecarOptions({ 'weft.dev/include-outbound-cidrs': '*' }, settings).capture.includeOutboundCidrs, undefined, '"*" is the default: everything');
    assert.deepEqual(readSidecarOptions({ 'weft.dev/include-outbound-cidrs': '' }, settings).capture.includeOutboundCidrs, [], 'empty: capture no outbound traffic');
  });

  it('refuses bad ports and CIDRs, naming the annotation and the item', () => {
    assert.equal(refusal({ 'weft.dev/exclude-inbound-ports': '80,http' }), 'metadata.annotations.weft.dev/exclude-inbound-ports: "http" is not a port (1-65535); expected a comma-separated list such as "8080,9090"');
    assert.match(refusal({ 'weft.dev/exclude-outbound-ports': '70000' }), /weft\.dev\/exclude-outbound-ports: "70000" is not a port/);
    assert.match(refusal({ 'weft.dev/exclude-outbound-ports': '0' }), /"0" is not a port/);
    assert.match(refusal({ 'weft.dev/exclude-outbound-cidrs': '10.0.0.0/33' }), /weft\.dev\/exclude-outbound-cidrs: "10\.0\.0\.0\/33": the prefix length must be 0-32/);
    assert.match(refusal({ 'weft.dev/exclude-outbound-cidrs': 'example.com' }), /"example\.com" is not a CIDR/);
    assert.match(refusal({ 'weft.dev/exclude-outbound-cidrs': '*' }), /"\*" is not a CIDR/, '"*" only means something for the include list');
    assert.match(refusal({ 'weft.dev/include-outbound-cidrs': '*,10.0.0.0/8' }), /cannot be combined/);
  });

  it('takes proxy resources from annotations, and refuses a bad quantity naming the annotation', () => {
    const options = readSidecarOptions({ 'weft.dev/proxy-cpu': '200m', 'weft.dev/proxy-memory': '128Mi', 'weft.dev/proxy-cpu-limit': '2', 'weft.dev/proxy-memory-limit': '1Gi' }, settings);
    assert.deepEqual(options.resources, { requests: { cpu: '200m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } });
    assert.equal(refusal({ 'weft.dev/proxy-cpu': 'lots' }), 'metadata.annotations.weft.dev/proxy-cpu: "lots" is not a positive Kubernetes quantity (examples: 100m, 0.5, 2)');
    assert.match(refusal({ 'weft.dev/proxy-memory-limit': '256MB' }), /weft\.dev\/proxy-memory-limit: "256MB" is not a positive Kubernetes quantity \(examples: 128Mi, 1Gi\)/);
  });

  it('never produces a request above its limit: a single annotation moves the default, two that contradict are refused', () => {
    const raised = readSidecarOptions({ 'weft.dev/proxy-cpu': '2', 'weft.dev/proxy-memory': '512Mi' }, settings).resources;
    assert.deepEqual(raised, { requests: { cpu: '2', memory: '512Mi' }, limits: { cpu: '2', memory: '512Mi' } });
    const lowered = readSidecarOptions({ 'weft.dev/proxy-cpu-limit': '20m', 'weft.dev/proxy-memory-limit': '32Mi' }, settings).resources;
    assert.deepEqual(lowered, { requests: { cpu: '20m', memory: '32Mi' }, limits: { cpu: '20m', memory: '32Mi' } });
    assert.equal(refusal({ 'weft.dev/proxy-cpu': '2', 'weft.dev/proxy-cpu-limit': '500m' }), 'metadata.annotations.weft.dev/proxy-cpu: "2" is above weft.dev/proxy-cpu-limit "500m"');
  });

  it('takes the proxy log level from its annotation', () => {
    assert.equal(readSidecarOptions({ 'weft.dev/proxy-log-level': 'debug' }, settings).logLevel, 'debug');
    assert.match(refusal({ 'weft.dev/proxy-log-level': 'verbose' }), /weft\.dev\/proxy-log-level: "verbose" is not one of trace, debug, info/);
  });
});

describe('resolveInjectionSettings', () => {
  it('defaults, with the init image following the proxy image', () => {
    const resolved = resolveInjectionSettings({ proxyImage: 'registry.example/weft-proxy:1.0' });
    assert.equal(resolved.initImage, 'registry.example/weft-proxy:1.0');
    assert.equal(resolved.controlPlaneAddress, 'weft-controlplane.weft-system.svc:15012');
    assert.equal(resolveInjectionSettings({ proxyImage: 'a:1', initImage: 'b:1' }).initImage, 'b:1');
  });

  it('refuses bad settings, naming the flag', () => {
    const cases: [Parameters<typeof resolveInjectionSettings>[0], RegExp][] = [
      [{ proxyImage: 'has space:1' }, /^--proxy-image: "has space:1" is not an image reference/],
      [{ initImage: 'https://x/y' }, /^--init-image: /],
      [{ controlPlaneAddress: 'weft-controlplane' }, /^--controlplane-address: "weft-controlplane" is not host:port/],
      [{ trustDomain: 'Not A Domain' }, /^--trust-domain: /],
      [{ logLevel: 'loud' }, /^--proxy-log-level: "loud" is not one of/],
      [{ proxyResources: { requests: { cpu: '2', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } } }, /^--proxy-resources: requests\.cpu 2 is above limits\.cpu 1/],
      [{ proxyResources: { requests: { cpu: 'x', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } } }, /^--proxy-resources: requests\.cpu: "x" is not a positive Kubernetes quantity/],
    ];
    for (const [overrides, message] of cases) {
      assert.throws(() => resolveInjectionSettings(overrides), (error: unknown) => error instanceof InjectionSettingsError && message.test(error.message), JSON.stringify(overrides));
    }
  });
});
