import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldError } from '../registry/field.ts';
import { injectPod, type InjectionResult } from './inject-pod.ts';
import { INJECTOR_VERSION, resolveInjectionSettings } from './injection-settings.ts';
import { applyJsonPatch } from './json-patch.ts';
import { samplePod, type Pod } from './testing/fixtures.ts';

const settings = resolveInjectionSettings({ proxyImage: 'registry.example/weft-proxy:0.1.0' });

type Container = { name: string; restartPolicy?: string; args?: string[]; securityContext?: Record<string, unknown>; [key: string]: unknown };

function spec(pod: Pod): { initContainers: Container[]; containers: Container[]; volumes: Record<string, unknown>[] } {
  return pod.spec as never;
}

function annotations(pod: Pod): Record<string, string> {
  return (pod.metadata as { annotations: Record<string, string> }).annotations;
}

/** Injects, and checks the invariant every caller relies on: the patch turns the input into the result. */
function inject(pod: unknown, context: { namespace?: string } = {}): InjectionResult {
  const before = structuredClone(pod);
  const result = injectPod(pod, settings, context);
  assert.deepEqual(pod, before, 'the input is not modified');
  assert.deepEqual(applyJsonPatch(pod, result.patch), result.pod, 'applying the patch to the input yields the injected pod');
  return result;
}

function refusal(pod: unknown): string {
  try {
    injectPod(pod, settings);
  } catch (error) {
    assert.ok(error instanceof FieldError, String(error));
    return error.message;
  }
  assert.fail('injected');
}

describe('injectPod', () => {
  it('puts weft-init, then weft-proxy as a native sidecar, before the pod\'s own init containers', () => {
    const result = inject(samplePod());
    assert.equal(result.outcome, 'injected');
    const { initContainers, containers } = spec(result.pod);
    assert.deepEqual(initContainers.map((container) => container.name), ['weft-init', 'weft-proxy', 'migrate']);
    assert.deepEqual(containers.map((container) => container.name), ['app'], 'main containers are untouched');
    const [init, proxy] = initContainers as [Container, Container];
    assert.equal(init.restartPolicy, undefined, 'weft-init runs to completion');
    assert.equal(proxy.restartPolicy, 'Always', 'the proxy keeps running beside the app and does not hold a Job open');
  });

  it('weft-init: capture with NET_ADMIN and NET_RAW as root, nothing else', () => {
    const [init] = spec(inject(samplePod()).pod).initContainers as [Container];
    assert.equal(init.image, settings.initImage);
    assert.deepEqual(init.command, ['weft-init']);
    assert.deepEqual(init.args, ['--proxy-uid', '1337', '--inbound-capture-port', '15006', '--outbound-capture-port', '15001', '--exclude-inbound-ports', '15021,15090']);
    assert.deepEqual(init.securityContext, {
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    });
  });

  it('weft-init: exclusions from annotations', () => {
    const pod = samplePod({
      annotations: {
        'weft.dev/exclude-inbound-ports': '9090,15021',
        'weft.dev/exclude-outbound-ports': '5432,6379',
        'weft.dev/exclude-outbound-cidrs': '169.254.169.254',
        'weft.dev/include-outbound-cidrs': '10.0.0.0/8',
      },
    });
    const [init] = spec(inject(pod).pod).initContainers as [Container];
    assert.deepEqual(init.args, [
      '--proxy-uid', '1337',
      '--inbound-capture-port', '15006',
      '--outbound-capture-port', '15001',
      '--exclude-inbound-ports', '15021,15090,9090',
      '--exclude-outbound-ports', '5432,6379',
      '--exclude-outbound-cidrs', '169.254.169.254/32',
      '--include-outbound-cidrs', '10.0.0.0/8',
    ]);
  });

  it("derives the proxy's drain deadline from the pod's grace period, and refuses a bad one", () => {
    const drainDeadline = (gracePeriod: unknown): string | undefined => {
      const pod = samplePod();
      (pod.spec as Record<string, unknown>).terminationGracePeriodSeconds = gracePeriod;
      const [, proxy] = spec(inject(pod).pod).initContainers as [Container, Container];
      return (proxy.env as { name: string; value?: string }[]).find((entry) => entry.name === 'WEFT_DRAIN_DEADLINE')?.value;
    };
    assert.equal(drainDeadline(60), '55s');
    assert.equal(drainDeadline(6), '3s');
    assert.equal(drainDeadline(0), '1s');
    assert.equal(drainDeadline(null), '25s', 'null is the default, 30 s');
    const pod = samplePod();
    (pod.spec as Record<string, unknown>).terminationGracePeriodSeconds = '30';
    assert.match(refusal(pod), /spec\.terminationGracePeriodSeconds: expected an integer/);
  });

  it('weft-proxy: flags, downward-API env, ports, probes, resources, security context, mounts', () => {
    const [, proxy] = spec(inject(samplePod()).pod).initContainers as [Container, Container];
    assert.equal(proxy.image, 'registry.example/weft-proxy:0.1.0');
    assert.deepEqual(proxy.command, ['weft-proxy']);
    assert.deepEqual(proxy.args, [
      '--xds-address', 'weft-controlplane.weft-system.svc:15012',
      '--workload', '$(POD_NAME)',
      '--namespace', '$(POD_NAMESPACE)',
      '--token-file', '/var/run/secrets/weft/tokens/weft-ca-token',
      '--ca-root-cert', '/var/run/weft/root-cert/root-cert.pem',
      '--outbound-address', '127.0.0.1:15001',
      '--inbound-address', '0.0.0.0:15006',
      '--admin-address', '127.0.0.1:15000',
      '--stats-address', '0.0.0.0:15090',
      '--health-address', '0.0.0.0:15021',
    ]);
    const env = Object.fromEntries((proxy.env as { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[]).map((entry) => [entry.name, entry.value ?? `field:${entry.valueFrom?.fieldRef.fieldPath}`]));
    assert.deepEqual(env, {
      POD_NAME: 'field:metadata.name',
      POD_NAMESPACE: 'field:metadata.namespace',
      SERVICE_ACCOUNT: 'field:spec.serviceAccountName',
      POD_IP: 'field:status.podIP',
      WEFT_LOG_LEVEL: 'info',
      WEFT_TRUST_DOMAIN: 'cluster.local',
      NODE_OPTIONS: '--max-semi-space-size=2',
      WEFT_DRAIN_DEADLINE: '25s',
    });
    assert.deepEqual(proxy.ports, [
      { name: 'weft-metrics', containerPort: 15090, protocol: 'TCP' },
      { name: 'weft-health', containerPort: 15021, protocol: 'TCP' },
    ]);
    for (const probe of ['readinessProbe', 'startupProbe']) {
      assert.deepEqual((proxy[probe] as { httpGet: unknown }).httpGet, { path: '/healthz/ready', port: 15021, scheme: 'HTTP' }, probe);
    }
    assert.deepEqual(proxy.resources, { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '1000m', memory: '256Mi' } });
    assert.deepEqual(proxy.securityContext, {
      runAsUser: 1337,
      runAsGroup: 1337,
      runAsNonRoot: true,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.deepEqual(proxy.volumeMounts, [
      { name: 'weft-token', mountPath: '/var/run/secrets/weft/tokens', readOnly: true },
      { name: 'weft-root-cert', mountPath: '/var/run/weft/root-cert', readOnly: true },
    ]);
  });

  it('adds the projected token (audience weft-ca) and root-cert volumes after the pod\'s own', () => {
    assert.deepEqual(spec(inject(samplePod()).pod).volumes, [
      { name: 'config', configMap: { name: 'orders' } },
      { name: 'weft-token', projected: { sources: [{ serviceAccountToken: { audience: 'weft-ca', expirationSeconds: 43200, path: 'weft-ca-token' } }] } },
      { name: 'weft-root-cert', configMap: { name: 'weft-root-cert', items: [{ key: 'root-cert.pem', path: 'root-cert.pem' }] } },
    ]);
  });

  it('annotates the pod: status marker, version, Prometheus scraping of 15090', () => {
    const result = inject(samplePod({ annotations: { 'team/owner': 'orders' } }));
    assert.deepEqual(annotations(result.pod), {
      'team/owner': 'orders',
      'weft.dev/status': 'injected',
      'weft.dev/injector-version': INJECTOR_VERSION,
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '15090',
      'prometheus.io/path': '/stats/prometheus',
    });
    // Keys with '/' are escaped as ~1 in the patch.
    assert.ok(result.patch.some((operation) => operation.path === '/metadata/annotations/prometheus.io~1port'));
  });

  it('keeps the pod\'s own Prometheus annotations, and adds none beside them', () => {
    const result = inject(samplePod({ annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' } }));
    assert.deepEqual(annotations(result.pod), {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
      'weft.dev/status': 'injected',
      'weft.dev/injector-version': INJECTOR_VERSION,
    });
  });

  it('patches pods without metadata, annotations, init containers or volumes by adding them whole', () => {
    const bare = { spec: { containers: [{ name: 'app', image: 'app:1' }] } };
    const result = inject(bare);
    assert.deepEqual(result.patch.map((operation) => `${operation.op} ${operation.path}`), ['add /spec/initContainers', 'add /spec/volumes', 'add /metadata']);
    assert.deepEqual(spec(result.pod).initContainers.map((container) => container.name), ['weft-init', 'weft-proxy']);
    const nulls = { metadata: { annotations: null }, spec: { containers: [{ name: 'app', image: 'app:1' }], initContainers: null, volumes: null } };
    assert.deepEqual(inject(nulls).patch.map((operation) => `${operation.op} ${operation.path}`), ['add /spec/initContainers', 'add /spec/volumes', 'add /metadata/annotations']);
  });

  it('inserts into existing lists item by item, and escapes ~ and / in annotation keys', () => {
    const result = inject(samplePod({ annotations: { 'odd~key/with-slash': 'x' } }));
    assert.deepEqual(result.patch.map((operation) => `${operation.op} ${operation.path}`), [
      'add /spec/initContainers/0',
      'add /spec/initContainers/1',
      'add /spec/volumes/-',
      'add /spec/volumes/-',
      'add /metadata/annotations/weft.dev~1status',
      'add /metadata/annotations/weft.dev~1injector-version',
      'add /metadata/annotations/prometheus.io~1scrape',
      'add /metadata/annotations/prometheus.io~1port',
      'add /metadata/annotations/prometheus.io~1path',
    ]);
    assert.equal(annotations(result.pod)['odd~key/with-slash'], 'x');
  });

  it('injecting twice equals injecting once', () => {
    const once = inject(samplePod());
    const twice = inject(once.pod);
    assert.equal(twice.outcome, 'already-injected');
    assert.deepEqual(twice.patch, []);
    assert.deepEqual(twice.pod, once.pod);
    // A sidecar added by hand (no status marker) also counts.
    const byHand = samplePod({ spec: { initContainers: [{ name: 'weft-proxy', image: 'x', restartPolicy: 'Always' }] } });
    assert.equal(inject(byHand).outcome, 'already-injected');
  });

  it('honours the opt-out, as a label or an annotation; "true" injects; anything else is an error', () => {
    for (const pod of [samplePod({ annotations: { 'weft.dev/inject': 'false' } }), samplePod({ labels: { 'weft.dev/inject': 'false' } })]) {
      const result = inject(pod);
      assert.equal(result.outcome, 'opted-out');
      assert.deepEqual(result.patch, []);
      assert.deepEqual(result.pod, pod);
      assert.match(result.reason ?? '', /weft\.dev\/inject: "false"/);
    }
    assert.equal(inject(samplePod({ labels: { 'weft.dev/inject': 'true' } })).outcome, 'injected');
    assert.equal(inject(samplePod({ labels: { 'weft.dev/inject': 'true' }, annotations: { 'weft.dev/inject': 'false' } })).outcome, 'injected', 'the label wins, as in Istio');
    assert.equal(refusal(samplePod({ annotations: { 'weft.dev/inject': 'flase' } })), 'metadata.annotations.weft.dev/inject: "flase" must be "true" or "false"');
  });

  it('never injects hostNetwork pods, and says why', () => {
    const result = inject(samplePod({ spec: { hostNetwork: true }, labels: { 'weft.dev/inject': 'true' } }));
    assert.equal(result.outcome, 'host-network');
    assert.deepEqual(result.patch, []);
    assert.match(result.reason ?? '', /host network/);
  });

  it('never injects in Kubernetes\' and Weft\'s own namespaces; the context namespace counts when metadata has none', () => {
    assert.equal(inject(samplePod(), { namespace: 'kube-system' }).outcome, 'never-injected-namespace');
    const withoutNamespace = samplePod();
    delete (withoutNamespace.metadata as Record<string, unknown>).namespace;
    assert.equal(inject(withoutNamespace, { namespace: 'weft-system' }).outcome, 'never-injected-namespace');
    assert.equal(inject(withoutNamespace).outcome, 'injected');
  });

  it('takes resources and log level from annotations', () => {
    const pod = samplePod({ annotations: { 'weft.dev/proxy-cpu': '100m', 'weft.dev/proxy-memory-limit': '512Mi', 'weft.dev/proxy-log-level': 'debug' } });
    const [, proxy] = spec(inject(pod).pod).initContainers as [Container, Container];
    assert.deepEqual(proxy.resources, { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1000m', memory: '512Mi' } });
    assert.ok((proxy.env as { name: string; value?: string }[]).some((entry) => entry.name === 'WEFT_LOG_LEVEL' && entry.value === 'debug'));
  });

  it('refuses malformed pods and reserved names, naming the field', () => {
    assert.equal(refusal({ metadata: {} }), 'spec: required');
    assert.equal(refusal({ spec: {} }), 'spec.containers: must list at least one entry');
    assert.equal(refusal({ spec: { containers: [{ image: 'x' }] } }), 'spec.containers[0].name: required');
    assert.equal(refusal({ spec: { containers: 'app' } }), 'spec.containers: expected a list, got "app"');
    assert.equal(refusal({ metadata: { annotations: { a: 1 } }, spec: { containers: [{ name: 'app' }] } }), 'metadata.annotations.a: expected a string value, got 1');
    assert.equal(refusal({ spec: { hostNetwork: 'yes', containers: [{ name: 'app' }] } }), 'spec.hostNetwork: expected true or false, got "yes"');
    assert.equal(refusal(samplePod({ spec: { initContainers: [{ name: 'weft-init', image: 'x' }] } })), 'spec.initContainers[0].name: "weft-init" is the name of Weft\'s sidecar containers; rename this one');
    assert.equal(refusal(samplePod({ spec: { volumes: [{ name: 'weft-token', emptyDir: {} }] } })), 'spec.volumes[0].name: "weft-token" is the name of Weft\'s sidecar volumes; rename this one');
    assert.match(refusal(samplePod({ annotations: { 'weft.dev/proxy-cpu': 'fast' } })), /^metadata\.annotations\.weft\.dev\/proxy-cpu: "fast" is not a positive Kubernetes quantity/);
  });

  it('injects a pod template (a Job\'s) the same way as a pod', () => {
    const template = { metadata: { labels: { job: 'report' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'report', image: 'report:1' }] } };
    const result = inject(template, { namespace: 'batch' });
    assert.equal(result.outcome, 'injected');
    const { initContainers } = spec(result.pod);
    assert.deepEqual(initContainers.map((container) => [container.name, container.restartPolicy]), [['weft-init', undefined], ['weft-proxy', 'Always']]);
    assert.equal((result.pod.spec as { restartPolicy: string }).restartPolicy, 'Never', 'the pod\'s restart policy is the Job\'s to set');
  });
});
