// A sidecar told to stop (SIGTERM) drains: readiness fails at once, its inbound port refuses new
// connections, HTTP/2 peers get GOAWAY and HTTP/1.1 peers `Connection: close`, requests in
// flight finish — and the application finishing them can still call out through it. It exits
// once all that is done, or at its drain deadline.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from 'undici';
import { LoopbackMesh } from '@weft/cli';
import { TARGET_PORT_HEADER } from '@weft/proxy';
import { formatHostPort, pollUntil, type HostPort } from '@weft/runtime';
import { httpGet, temporaryDirectory } from './helpers.ts';

/** How long the middle application works on a request before calling orders: the drain happens meanwhile. */
const APP_DELAY_MS = 2000;

function refusesConnections(address: HostPort): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(address.port, address.host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

async function concurrentRequests(app: HostPort): Promise<number> {
  return (JSON.parse((await httpGet(app, '/__stats')).text) as { concurrent: number }).concurrent;
}

describe('sidecar drain on SIGTERM', () => {
  let mesh: LoopbackMesh;
  let removeDir: () => Promise<void>;

  before(async () => {
    const dir = await temporaryDirectory('drain');
    removeDir = dir.remove;
    // Plaintext, so the test can be the HTTP/1.1 and HTTP/2 peer of a sidecar's inbound port itself.
    mesh = new LoopbackMesh({ dir: dir.path, mtls: false });
    await mesh.startControlPlane();
    await mesh.addWorkload({ name: 'middle', service: 'middle', calls: ['orders:8080'], appArgs: ['--delay-ms', String(APP_DELAY_MS)], proxyArgs: ['--drain-deadline', '30s'] });
    await mesh.addWorkload({ name: 'orders-1', service: 'orders' });
    await mesh.addWorkload({ name: 'stuck', service: 'stuck', appArgs: ['--delay-ms', '60000'], proxyArgs: ['--drain-deadline', '1s'] });
    await mesh.writeMeshFile(mesh.documents());
    await Promise.all(['middle', 'orders-1', 'stuck'].map((name) => mesh.sidecarServing(name)));
  });

  after(async () => {
    await mesh?.stop();
    await removeDir?.();
  });

  it('fails readiness, refuses new connections, closes HTTP/1.1 and HTTP/2 peers gracefully, finishes requests in flight (which still call out), then exits', { timeout: 60_000 }, async () => {
    const middle = mesh.workload('middle');
    const app = middle.appAddress as HostPort;
    const headers = { host: 'middle:8080', [TARGET_PORT_HEADER]: String(app.port) };
    await pollUntil('middle -> orders through the sidecars', 15_000, async () => ((await httpGet(middle.inbound, '/', headers)).status === 200 ? true : undefined));

    // One request in flight over HTTP/1.1 and one over HTTP/2 when the signal comes.
    const http1 = new Client(`http://${formatHostPort(middle.inbound)}`, { headersTimeout: 30_000, bodyTimeout: 30_000 });
    const overHttp1 = http1.request({ method: 'GET', path: '/', headers }).then(async (response) => ({ status: response.statusCode, connection: response.headers.connection, body: await response.body.text() }));
    const session: ClientHttp2Session = http2Connect(`http://${formatHostPort(middle.inbound)}`);
    session.on('error', () => undefined);
    const goaway = once(session, 'goaway');
    const stream = session.request({ ':method': 'GET', ':path': '/', ...headers });
    const overHttp2 = (async () => {
      const [response] = (await once(stream, 'response')) as [Record<string, string | number>];
      const chunks = (await stream.toArray()) as Buffer[];
      return { status: response[':status'], body: Buffer.concat(chunks).toString() };
    })();
    await pollUntil('both requests at the application', 10_000, async () => ((await concurrentRequests(app)) === 2 ? true : undefined));

    middle.sidecar.child.kill('SIGTERM');
    await middle.sidecar.waitForLog((record) => record.msg === 'draining', 5000, 'the drain to start');
    const health = await httpGet(middle.health, '/healthz/ready');
    assert.equal(health.status, 503);
    assert.deepEqual(JSON.parse(health.text), { ready: false, reason: 'draining' });
    assert.equal((await httpGet(middle.admin, '/ready')).status, 503);
    assert.equal(await refusesConnections(middle.inbound), true, 'a new inbound connection is refused');
    const [code] = (await goaway) as [number];
    assert.equal(code, 0, 'GOAWAY with NO_ERROR');
    assert.equal(await concurrentRequests(app), 2, 'both requests still in flight at the application while the sidecar drains');

    // The application calls orders during the drain, through the draining sidecar's outbound port.
    const [one, two] = await Promise.all([overHttp1, overHttp2]);
    assert.equal(one.status, 200, one.body);
    assert.equal(one.connection, 'close');
    assert.equal(two.status, 200, two.body);
    for (const { body } of [one, two]) {
      const upstream = (JSON.parse(body) as { upstream: { status: number; body: { workload: string } }[] }).upstream;
      assert.deepEqual(upstream.map((call) => [call.status, call.body.workload]), [[200, 'orders-1']]);
    }

    const drained = await middle.sidecar.waitForLog((record) => record.msg === 'drained', 30_000, 'the drain to end');
    assert.equal(drained.outcome, 'idle', 'inbound idle and outbound quiet: no need to wait for the deadline');
    assert.deepEqual(await middle.sidecar.exited, { code: 0, signal: null });
    await http1.close();
    session.destroy();
  });

  it('exits at the drain deadline when a request in flight does not finish', { timeout: 60_000 }, async () => {
    const stuck = mesh.workload('stuck');
    const app = stuck.appAddress as HostPort;
    const client = new Client(`http://${formatHostPort(stuck.inbound)}`);
    const inFlight = client.request({ method: 'GET', path: '/', headers: { host: 'stuck:8080', [TARGET_PORT_HEADER]: String(app.port) } }).then(
      (response) => `answered ${response.statusCode}`,
      () => 'connection cut',
    );
    await pollUntil('the request at the application', 10_000, async () => ((await concurrentRequests(app)) === 1 ? true : undefined));
    stuck.sidecar.child.kill('SIGTERM');
    const drained = await stuck.sidecar.waitForLog((record) => record.msg === 'drained', 15_000, 'the drain to end');
    assert.equal(drained.outcome, 'deadline');
    assert.equal(drained.inboundConnections, 1);
    assert.deepEqual(await stuck.sidecar.exited, { code: 0, signal: null });
    // Cut at the deadline: the sidecar answers 503 if it still can, else the connection ends.
    assert.match(await inFlight, /^(answered 503|connection cut)$/);
    await client.destroy();
  });
});
