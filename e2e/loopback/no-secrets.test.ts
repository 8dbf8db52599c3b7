// No token, key or cookie value leaks: a mesh with mTLS (bootstrap tokens, private keys), a
// route that sets an Authorization header, access logs on, debug logging, and requests that
// carry cookies, credentials and a token in the query. Then every log line of every process,
// every admin and debug view and every metrics scrape is searched for those values.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LoopbackMesh } from '@weft/cli';
import type { HostPort } from '@weft/runtime';
import { httpGet, httpRequest, pollUntil, temporaryDirectory } from './helpers.ts';

const COOKIE = 'session=c00kie-value-7f3a';
const AUTHORIZATION = 'Bearer caller-credential-91bd';
const QUERY_TOKEN = 'query-token-5c2e';
const ROUTE_CREDENTIAL = 'Basic cm91dGUtc2VjcmV0LTQ0';

describe('secrets stay out of logs, dumps and metrics', () => {
  let mesh: LoopbackMesh;
  let dir: { path: string; remove: () => Promise<void> };
  const output: string[] = [];

  before(async () => {
    dir = await temporaryDirectory('no-secrets');
    process.env.WEFT_LOG_LEVEL = 'debug';
    mesh = new LoopbackMesh({ dir: dir.path, echo: (_name, line) => output.push(line) });
    await mesh.startControlPlane();
    const proxyArgs = ['--access-log', 'all'];
    await mesh.addWorkload({ name: 'client', app: false, proxyArgs });
    await mesh.addWorkload({ name: 'orders-1', service: 'orders', proxyArgs });
    const route = {
      apiVersion: 'mesh.weft.dev/v1alpha1',
      kind: 'TrafficRoute',
      metadata: { name: 'orders', namespace: 'default' },
      spec: { hosts: ['orders'], http: [{ route: [{ destination: { host: 'orders' } }], headers: { request: { set: { authorization: ROUTE_CREDENTIAL } } } }] },
    };
    await mesh.writeMeshFile(mesh.documents([route]));
    await pollUntil('the client sidecar to route to orders', 15_000, async () => ((await httpRequest(mesh.workload('client').outbound, 'GET', '/', { host: 'orders:8080' })).status === 200 ? true : undefined));
  });

  after(async () => {
    delete process.env.WEFT_LOG_LEVEL;
    await mesh?.stop();
    await dir?.remove();
  });

  it('finds no token, key, cookie or credential anywhere an operator can look', async () => {
    const client = mesh.workload('client');
    const headers = { host: 'orders:8080', cookie: COOKIE, authorization: AUTHORIZATION };
    await pollUntil('requests to pass through both sidecars', 10_000, async () => ((await httpRequest(client.outbound, 'GET', `/orders?access_token=${QUERY_TOKEN}`, headers)).status === 200 ? true : undefined));
    for (let i = 0; i < 5; i++) assert.equal((await httpRequest(client.outbound, 'POST', `/orders?access_token=${QUERY_TOKEN}`, headers)).status, 200);
    // The access log lines are there, so the search below has something to search.
    await pollUntil('access log lines from both sidecars', 5000, () => (output.filter((line) => line.includes('"log":"access"')).length >= 12 ? true : undefined));

    const secrets = [COOKIE, 'c00kie-value-7f3a', AUTHORIZATION, QUERY_TOKEN, ROUTE_CREDENTIAL, 'PRIVATE KEY'];
    // Every bootstrap token the sidecars proved themselves with, and the CA's key material.
    const tokenDir = join(dir.path, 'tokens');
    for (const file of await readdir(tokenDir)) secrets.push((await readFile(join(tokenDir, file), 'utf8')).trim());
    const caKey = (await readFile(join(mesh.identity?.caDir ?? '', 'ca-key.pem'), 'utf8')).split('\n')[1] ?? '';
    assert.ok(caKey.length > 20 && secrets.length >= 8, 'the secrets to look for were found');
    secrets.push(caKey);

    const views: [string, string][] = [['process output', output.join('\n')]];
    const look = async (name: string, address: HostPort, paths: readonly string[]): Promise<void> => {
      for (const path of paths) views.push([`${name} ${path}`, (await httpGet(address, path)).text]);
    };
    for (const name of ['client', 'orders-1']) {
      const workload = mesh.workload(name);
      await look(name, workload.admin, ['/config_dump', '/clusters', '/stats', '/ready']);
      await look(name, workload.stats, ['/stats/prometheus']);
    }
    await look('control plane', mesh.debug as HostPort, ['/debug/syncz', '/debug/registry', '/debug/ca', '/metrics']);

    const dump = views.find(([name]) => name === 'client /config_dump')?.[1] ?? '';
    assert.match(dump, /"authorization",\s*"\[redacted\]"/, 'the route credential shows as redacted');
    for (const [name, text] of views) {
      for (const secret of secrets) assert.ok(!text.includes(secret), `${name} contains a secret (${secret.slice(0, 6)}…)`);
    }
  });
});
