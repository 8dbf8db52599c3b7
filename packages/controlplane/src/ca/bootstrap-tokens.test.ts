import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger } from '@weft/runtime';
import { BootstrapTokenAuthenticator, newBootstrapToken } from './bootstrap-tokens.ts';

describe('BootstrapTokenAuthenticator', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'weft-tokens-'));
  after(() => rm(dir, { recursive: true, force: true }));
  const log = createLogger('test', 'silent');
  const orders = newBootstrapToken({ namespace: 'default', serviceAccount: 'orders' });
  const frontend = newBootstrapToken({ namespace: 'shop', serviceAccount: 'frontend' });

  it('maps a token to its identity by digest; the file never holds the token', async () => {
    const file = join(dir, 'a.yaml');
    await writeFile(file, `tokens:\n${orders.entry}\n`);
    const authenticator = await BootstrapTokenAuthenticator.fromFile(file, log);
    assert.deepEqual(await authenticator.authenticate(orders.token), { namespace: 'default', serviceAccount: 'orders' });
    assert.equal(await authenticator.authenticate(frontend.token), undefined);
    assert.equal(await authenticator.authenticate(''), undefined);
    assert.ok(!orders.entry.includes(orders.token));
  });

  it('re-reads the file when it changes, and keeps the last good tokens when the change is invalid', async () => {
    const file = join(dir, 'b.yaml');
    await writeFile(file, `tokens:\n${orders.entry}\n`);
    const authenticator = await BootstrapTokenAuthenticator.fromFile(file, log);
    await writeFile(file, `tokens:\n${orders.entry}\n${frontend.entry}\n`);
    await utimes(file, new Date(), new Date(Date.now() + 2000));
    assert.deepEqual(await authenticator.authenticate(frontend.token), { namespace: 'shop', serviceAccount: 'frontend' });
    await writeFile(file, 'tokens:\n- {namespace: default, serviceAccount: orders, sha256: not-a-digest}\n');
    await utimes(file, new Date(), new Date(Date.now() + 4000));
    assert.deepEqual(await authenticator.authenticate(frontend.token), { namespace: 'shop', serviceAccount: 'frontend' });
  });

  it('refuses a file listing a token instead of its digest, naming the field', async () => {
    const file = join(dir, 'c.yaml');
    await writeFile(file, `tokens:\n- {namespace: default, serviceAccount: orders, sha256: ${orders.token}}\n`);
    await assert.rejects(BootstrapTokenAuthenticator.fromFile(file, log), (error: Error) => {
      assert.match(error.message, /c\.yaml: tokens\[0\]\.sha256: must be the 64 hex digits of a SHA-256 digest/);
      assert.ok(!error.message.includes(orders.token), 'the value is not echoed');
      return true;
    });
  });
});
