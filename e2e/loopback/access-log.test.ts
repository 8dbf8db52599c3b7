// Access logs of real sidecars, read from their stdout: the listed fields are there, credentials
// and bodies never are — not a cookie, an Authorization header, a token in the query string
// or a request body; `off` writes nothing and `sampled:PERCENT` about that share.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { LoopbackMesh } from '@weft/cli';
import { formatHostPort } from '@weft/runtime';
import { pollUntil, temporaryDirectory } from './helpers.ts';

const SECRETS = { cookie: 'cookie-secret-4711', authorization: 'auth-secret-4712', query: 'query-secret-4713', body: 'body-secret-4714', header: 'header-secret-4715' };

/** A parsed line with log: "access". */
type AccessLine = Record<string, unknown>;

describe('access logs', () => {
  let mesh: LoopbackMesh;
  /** Every output line of every process, by process name ("client-all/sidecar"). */
  const output = new Map<string, string[]>();
  const cleanups: (() => unknown)[] = [];

  before(async () => {
    const dir = await temporaryDirectory('access-log');
    cleanups.push(dir.remove);
    mesh = new LoopbackMesh({
      dir: dir.path,
      echo: (name, line) => {
        const lines = output.get(name) ?? [];
        lines.push(line);
        output.set(name, lines);
      },
    });
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'echo', service: 'echo', proxyArgs: ['--access-log', 'all'] });
    await mesh.addWorkload({ name: 'client-all', app: false, proxyArgs: ['--access-log', 'all'] });
    await mesh.addWorkload({ name: 'client-off', app: false, proxyArgs: ['--access-log', 'off'] });
    await mesh.addWorkload({ name: 'client-sampled', app: false, proxyArgs: ['--access-log', 'sampled:25'] });
    await mesh.writeMeshFile(mesh.documents());
    for (const client of ['client-all', 'client-off', 'client-sampled']) {
      await pollUntil(`${client} -> echo`, 20_000, async () => ((await call(client, 'GET', '/ready')) === 200 ? true : undefined));
    }
  });

  after(async () => {
    await mesh?.stop();
    for (const cleanup of cleanups) await cleanup();
  });

  async function call(client: string, method: 'GET' | 'POST', path: string, headers: Record<string, string> = {}, body?: string): Promise<number> {
    const response = await request(`http://${formatHostPort(mesh.workload(client).outbound)}${path}`, { method, headers: { host: 'echo:8080', ...headers }, body, headersTimeout: 10_000, bodyTimeout: 10_000 });
    await response.body.dump();
    return response.statusCode;
  }

  function accessLines(name: string): AccessLine[] {
    return (output.get(name) ?? []).flatMap((line) => {
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        return record.log === 'access' ? [record] : [];
      } catch {
        return [];
      }
    });
  }

  function linesOf(name: string, requestId: string): AccessLine[] {
    return accessLines(name).filter((line) => line.request_id === requestId);
  }

  it('logs the listed fields on both sidecars and none of the credentials or the body', async () => {
    const status = await call(
      'client-all',
      'POST',
      `/orders/42?token=${SECRETS.query}&page=2`,
      {
        cookie: `session=${SECRETS.cookie}`,
        authorization: `Bearer ${SECRETS.authorization}`,
        'x-api-key': SECRETS.header,
        'x-request-id': 'access-1',
        'content-type': 'text/plain',
      },
      `password=${SECRETS.body}`,
    );
    assert.equal(status, 200);
    const [outbound] = await pollUntil('the outbound line', 10_000, () => (linesOf('client-all/sidecar', 'access-1').length > 0 ? linesOf('client-all/sidecar', 'access-1') : undefined));
    const [inbound] = await pollUntil('the inbound line', 10_000, () => (linesOf('echo/sidecar', 'access-1').length > 0 ? linesOf('echo/sidecar', 'access-1') : undefined));
    assert.ok(outbound && inbound);
    const common = { log: 'access', method: 'POST', authority: 'echo:8080', path: '/orders/42', status: 200, response_flags: '-', request_id: 'access-1' };
    assert.deepEqual(pick(outbound, Object.keys(common)), common);
    assert.deepEqual(pick(inbound, Object.keys(common)), common);
    assert.equal(outbound.direction, 'outbound');
    assert.equal(inbound.direction, 'inbound');
    assert.equal(outbound.trace_id, inbound.trace_id);
    assert.match(String(outbound.trace_id), /^[0-9a-f]{32}$/);
    assert.equal(typeof outbound.duration_ms, 'number');
    assert.equal(outbound.bytes_received, `password=${SECRETS.body}`.length);
    assert.equal(outbound.upstream_address, formatHostPort(mesh.workload('echo').inbound));
    assert.equal(outbound.upstream_cluster, 'outbound|8080||echo.default.svc.cluster.local');
    assert.ok(outbound.route);
    assert.match(String(outbound.peer_spiffe_id), /\/ns\/default\/sa\/echo$/);
    assert.match(String(inbound.peer_spiffe_id), /\/ns\/default\/sa\/client-all$/);
    assert.equal(inbound.upstream_address, `127.0.0.1:${mesh.workload('echo').appAddress?.port}`);

    // Nothing a sidecar wrote — access log or its own log — holds a credential or the body.
    const everything = [...(output.get('client-all/sidecar') ?? []), ...(output.get('echo/sidecar') ?? [])].join('\n');
    for (const secret of Object.values(SECRETS)) assert.ok(!everything.includes(secret), `${secret} leaked into the sidecars' output`);
    assert.ok(!everything.includes('page=2'), 'no query string at all');
  });

  it('sampled:25 logs about a quarter of requests', async () => {
    const total = 200;
    for (let i = 0; i < total; i++) assert.equal(await call('client-sampled', 'GET', '/'), 200);
    // Every request reached echo's sidecar, which logs all: once its lines are in, the client's are too.
    await pollUntil('echo logged every request', 10_000, () => (accessLines('echo/sidecar').filter((line) => String(line.peer_spiffe_id).endsWith('/sa/client-sampled') && line.path === '/').length >= total ? true : undefined));
    const logged = accessLines('client-sampled/sidecar').filter((line) => line.path === '/').length;
    // Binomial(200, 0.25): mean 50, standard deviation about 6.
    assert.ok(logged >= 26 && logged <= 74, `${logged} of ${total} logged at 25%`);
  });

  it('off logs nothing', async () => {
    for (let i = 0; i < 20; i++) assert.equal(await call('client-off', 'GET', '/', { 'x-request-id': `off-${i}` }), 200);
    await pollUntil('echo logged the last one', 10_000, () => (linesOf('echo/sidecar', 'off-19').length > 0 ? true : undefined));
    assert.deepEqual(accessLines('client-off/sidecar'), []);
  });
});

function pick(record: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((key) => [key, record[key]]));
}
