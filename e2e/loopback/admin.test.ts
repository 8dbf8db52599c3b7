// The admin port of a real proxy process: stats in Prometheus form, and the log level read and
// changed at run time (children such as the xDS client follow).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EPHEMERAL_PROXY_LISTENERS, ManagedProcess, PROGRAMS } from '@weft/cli';
import { httpGet, httpRequest } from './helpers.ts';

describe('the proxy admin port', () => {
  let proxy: ManagedProcess;

  before(() => {
    // Nothing listens on port 9: the proxy keeps reconnecting, which it logs at info.
    proxy = new ManagedProcess('proxy', PROGRAMS.proxy, ['--xds-address', '127.0.0.1:9', '--workload', 'admin-test', ...EPHEMERAL_PROXY_LISTENERS]);
  });

  after(() => proxy?.stop());

  it('serves /stats as Prometheus text that counts the requests answered', async () => {
    const outbound = await proxy.listening('outbound');
    for (let i = 0; i < 3; i++) await httpGet(outbound, '/', { host: 'orders:8080' });
    const stats = await httpGet(await proxy.listening('admin'), '/stats');
    assert.equal(stats.status, 200);
    assert.match(String(stats.headers['content-type']), /^text\/plain/);
    assert.match(stats.text, /^weft_requests_total\{direction="outbound",source_workload="admin-test",.*response_code="503",.*response_flags="NCFG"\} 3$/m);
  });

  it('reads the log level, sets it with POST /logging?level=, and refuses an unknown level', async () => {
    const admin = await proxy.listening('admin');
    assert.deepEqual(JSON.parse((await httpGet(admin, '/logging')).text), { level: 'info' });
    const refused = await httpRequest(admin, 'POST', '/logging?level=loud');
    assert.equal(refused.status, 400);
    assert.match(refused.text, /level must be one of fatal, error, warn, info, debug, trace, silent, got \\"loud\\"/);
    assert.equal((await httpRequest(admin, 'GET', '/logging?level=debug')).status, 200, 'GET only reads');
    assert.deepEqual(JSON.parse((await httpGet(admin, '/logging')).text), { level: 'info' });
    const set = await httpRequest(admin, 'POST', '/logging?level=warn');
    assert.deepEqual(JSON.parse(set.text), { level: 'warn' });
    assert.deepEqual(JSON.parse((await httpGet(admin, '/logging')).text), { level: 'warn' });
  });
});
