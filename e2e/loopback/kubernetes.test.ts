// weft-controlplane --registry kubernetes as a real process against the Kubernetes API test
// double (no API server can run here), with a real sidecar: readiness only after the first
// sync, the CA created in its Secret, the root certificate published into meshed namespaces, the
// webhook's CA bundle patched in and its certificate valid for the Service name, CR status from
// the leader, a certificate for the sidecar through TokenReview, a deleted Service leaving
// the sidecar's configuration, and weft check / proxy-status against it.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { EPHEMERAL_PROXY_LISTENERS, ManagedProcess, PROGRAMS } from '@weft/cli';
import { formatHostPort } from '@weft/runtime';
import { KubeApiDouble, type KubeObject } from '../../packages/controlplane/test/kube-api-double.ts';
import { customResource, endpointSlice, MESH_API, pod, service } from '../../packages/controlplane/test/kube-objects.ts';
import { httpGet, httpRequest, pollUntil, rowOf, temporaryDirectory, weftCli } from './helpers.ts';

const HTTP = [{ name: 'http', port: 8080, targetPort: 9080 }];
const TOKEN = 'frontend-projected-token';

type ConfigDump = { configs: { cluster: { resources: Record<string, unknown> } } };

describe('the control plane on Kubernetes (against the API double)', () => {
  let api: KubeApiDouble;
  let controlPlane: ManagedProcess;
  let proxy: ManagedProcess | undefined;
  let dir: { path: string; remove: () => Promise<void> };

  before(async () => {
    dir = await temporaryDirectory('kubernetes');
    api = await KubeApiDouble.start({ bookmarkIntervalMs: 500 });
    api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'weft-injection': 'enabled' } } });
    api.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'plain' } });
    api.apply({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'weft-sidecar-injector' },
      webhooks: [{ name: 'sidecar-injector.mesh.weft.dev', clientConfig: { service: { name: 'weft-controlplane', namespace: 'weft-system', path: '/inject', port: 15017 } }, sideEffects: 'None', admissionReviewVersions: ['v1'] }],
    });
    for (const name of ['orders', 'frontend']) {
      api.apply(service(name, HTTP, 'shop'));
      api.apply(pod({ name: `${name}-0`, ip: name === 'orders' ? '127.0.0.1' : '127.0.0.2', namespace: 'shop', labels: { app: name }, serviceAccount: name }));
      api.apply(endpointSlice(name, [{ name: `${name}-0`, ip: name === 'orders' ? '127.0.0.1' : '127.0.0.2' }], HTTP, 'shop'));
    }
    api.registerToken(TOKEN, { namespace: 'shop', serviceAccount: 'frontend', audiences: ['weft-ca'] });
    // A kubeconfig file, as KUBECONFIG points to outside a cluster.
    const kubeconfig = join(dir.path, 'kubeconfig');
    await writeFile(kubeconfig, api.kubeConfig().exportConfig());
    // The first lists fail: the control plane must not be ready until it has listed everything.
    api.failNext({ method: 'GET', path: /^\/api\/v1\/services$/, watch: false }, 500, 3);
    controlPlane = new ManagedProcess(
      'controlplane',
      PROGRAMS.controlPlane,
      ['--registry', 'kubernetes', '--ca-secret', 'weft-ca', '--xds-address', 'off', '--secure-address', '127.0.0.1:0', '--debug-address', '127.0.0.1:0', '--webhook-address', '127.0.0.1:0', '--webhook-config', 'weft-sidecar-injector'],
      { env: { KUBECONFIG: kubeconfig, POD_NAMESPACE: 'weft-system', POD_NAME: 'weft-controlplane-0' }, echo: process.env.ECHO ? (line) => process.stderr.write(`${line}\n`) : undefined },
    );
  });

  after(async () => {
    await proxy?.stop();
    await controlPlane?.stop();
    await api?.stop();
    await dir?.remove();
  });

  it('answers /ready with 503 until every watch has listed once, then 200', async () => {
    const debug = await controlPlane.listening('debug');
    const early = await httpGet(debug, '/ready');
    assert.equal(early.status, 503, 'ready while the first service lists were failing');
    await pollUntil('ready', 20_000, async () => ((await httpGet(debug, '/ready')).status === 200 ? true : undefined), 50);
    assert.ok(api.requests.filter((request) => request.path === '/api/v1/services' && !request.watch).length >= 4);
  });

  it('creates the CA Secret, publishes the root certificate into meshed namespaces only, and patches the webhook CA bundle', async () => {
    const secret = api.get('v1', 'Secret', 'weft-system', 'weft-ca') as { data: Record<string, string> } | undefined;
    assert.ok(secret, 'the CA Secret was created');
    assert.deepEqual(Object.keys(secret.data).sort(), ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem']);
    const rootPem = Buffer.from(secret.data['root-cert.pem'] as string, 'base64').toString();
    const configMap = await pollUntil('the root-cert ConfigMap in shop', 10_000, () => api.get('v1', 'ConfigMap', 'shop', 'weft-root-cert') as { data: Record<string, string> } | undefined);
    assert.equal(configMap.data['root-cert.pem']?.trim(), rootPem.trim());
    assert.equal(api.get('v1', 'ConfigMap', 'plain', 'weft-root-cert'), undefined, 'not in a namespace without weft-injection=enabled');
    const webhookConfig = await pollUntil('the CA bundle patched in', 10_000, () => {
      const config = api.get('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', undefined, 'weft-sidecar-injector') as { webhooks: { clientConfig: { caBundle?: string } }[] } | undefined;
      return config?.webhooks[0]?.clientConfig.caBundle ? config : undefined;
    });
    assert.equal(Buffer.from(webhookConfig.webhooks[0]?.clientConfig.caBundle as string, 'base64').toString().trim(), rootPem.trim());

    // The webhook's certificate verifies against that bundle for the Service's DNS name.
    const webhook = await controlPlane.listening('webhook');
    const peer = await new Promise<X509Certificate>((resolve, reject) => {
      const socket = connect({ host: webhook.host, port: webhook.port, servername: 'weft-controlplane.weft-system.svc', ca: rootPem }, () => {
        resolve(new X509Certificate(socket.getPeerCertificate().raw));
        socket.end();
      });
      socket.on('error', reject);
    });
    assert.match(peer.subjectAltName ?? '', /DNS:weft-controlplane\.weft-system\.svc/);
  });

  it('writes CR status as the leader: Accepted=True for a valid route, False with the reason for an invalid one', async () => {
    api.apply(customResource('TrafficRoute', 'orders', { hosts: ['orders'], http: [{ route: [{ destination: { host: 'orders' } }] }] }, 'shop'));
    api.apply(customResource('TrafficRoute', 'broken', { hosts: ['frontend'], http: [{ route: [{ destination: { host: 'orders', subset: 'v9' } }] }] }, 'shop'));
    const conditionOf = (name: string) => () => ((api.get(MESH_API, 'TrafficRoute', 'shop', name) as KubeObject & { status?: { conditions?: { type: string; status: string; message: string }[] } })?.status?.conditions ?? []).find((condition) => condition.type === 'Accepted');
    const valid = await pollUntil('status of orders', 10_000, conditionOf('orders'));
    assert.equal(valid.status, 'True');
    const invalid = await pollUntil('status of broken', 10_000, conditionOf('broken'));
    assert.equal(invalid.status, 'False');
    assert.match(invalid.message, /subset "v9" is not defined by any DestinationPolicy/);
    const lease = api.get('coordination.k8s.io/v1', 'Lease', 'weft-system', 'weft-controlplane') as { spec?: { holderIdentity?: string } } | undefined;
    assert.equal(lease?.spec?.holderIdentity, 'weft-controlplane-0');
  });

  it('gives a sidecar with a projected token a certificate (TokenReview) and configuration; a deleted Service leaves it', async () => {
    const tokenFile = join(dir.path, 'token');
    await writeFile(tokenFile, TOKEN);
    const rootFile = join(dir.path, 'root-cert.pem');
    const configMap = api.get('v1', 'ConfigMap', 'shop', 'weft-root-cert') as unknown as { data: Record<string, string> };
    await writeFile(rootFile, configMap.data['root-cert.pem'] as string);
    const secure = await controlPlane.listening('secure');
    proxy = new ManagedProcess('proxy', PROGRAMS.proxy, ['--xds-address', formatHostPort(secure), '--workload', 'frontend-0', '--namespace', 'shop', '--token-file', tokenFile, '--ca-root-cert', rootFile, ...EPHEMERAL_PROXY_LISTENERS]);
    const obtained = await proxy.waitForLog((record) => record.msg === 'certificate obtained');
    assert.equal(obtained.identity, 'spiffe://cluster.local/ns/shop/sa/frontend');
    const admin = await proxy.listening('admin');
    const clusters = async (): Promise<string[]> => Object.keys((JSON.parse((await httpGet(admin, '/config_dump')).text) as ConfigDump).configs.cluster.resources);
    // On-demand discovery: a request for orders makes the sidecar ask for it (once it has its configuration).
    const outbound = await proxy.listening('outbound');
    await pollUntil('the orders cluster in the sidecar', 15_000, async () => {
      await httpRequest(outbound, 'GET', '/', { host: 'orders:8080' });
      return (await clusters()).includes('outbound|8080||orders.shop.svc.cluster.local') ? true : undefined;
    });
    const health = await httpGet(await proxy.listening('health'), '/healthz/ready');
    assert.equal(health.status, 200);

    api.delete('v1', 'Service', 'shop', 'orders');
    await pollUntil('the orders cluster to leave the sidecar', 15_000, async () => ((await clusters()).some((name) => name.includes('orders.shop')) ? undefined : true));
  });

  it('weft check passes and weft proxy-status shows the sidecar SYNCED, through the debug port alone (as through a port-forward)', async () => {
    const debug = `http://${formatHostPort(await controlPlane.listening('debug'))}`;
    const check = await weftCli('check', '--controlplane', debug);
    assert.equal(check.code, 0, check.stdout);
    assert.doesNotMatch(check.stdout, /^[‼×] /m, check.stdout);
    const status = await weftCli('proxy-status', '--controlplane', debug);
    assert.deepEqual(rowOf(status.stdout, 'frontend-0.shop')?.slice(1, 7), Array(6).fill('SYNCED'), status.stdout);
  });
});
