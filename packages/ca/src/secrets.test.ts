// The CA key must never leave the CertificateAuthority: not through JSON, util.inspect,
// string conversion, enumeration, or any error message.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CaError } from './ca-error.ts';
import { createRootCa, loadCa } from './ca-files.ts';
import type { CertificateAuthority } from './certificate-authority.ts';
import { temporaryDirectory } from './testing/fixtures.ts';

/** Fragments of a PEM key that would betray it: every base64 line, and a few shorter slices. */
function keyFragments(keyPem: string): string[] {
  const lines = keyPem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
  return [...lines, ...lines.map((line) => line.slice(10, 30)), 'PRIVATE KEY'];
}

function assertNoKey(text: string, keyPem: string, where: string): void {
  for (const fragment of keyFragments(keyPem)) assert.ok(!text.includes(fragment), `${where} contains key material (${fragment})`);
}

describe('CA key secrecy', () => {
  const tmp = temporaryDirectory();
  const dir = join(tmp.path, 'ca');
  let ca: CertificateAuthority;
  let keyPem: string;

  before(async () => {
    await createRootCa(dir);
    ca = await loadCa(dir);
    keyPem = readFileSync(join(dir, 'ca-key.pem'), 'utf8');
  });
  after(() => tmp.remove());

  it('JSON.stringify, util.inspect (hidden and deep), toString and enumeration show no key material', () => {
    const json = JSON.stringify(ca);
    assert.deepEqual(JSON.parse(json), { trustDomain: 'cluster.local', defaultTtlSeconds: 86_400, maxTtlSeconds: 604_800 });
    assertNoKey(json, keyPem, 'JSON.stringify');
    assertNoKey(inspect(ca, { showHidden: true, depth: Infinity, getters: true }), keyPem, 'util.inspect');
    assertNoKey(`${Object.prototype.toString.call(ca)}`, keyPem, 'toString');
    assert.deepEqual(Object.keys(ca).sort(), ['defaultTtlSeconds', 'maxTtlSeconds', 'trustDomain']);
    assert.deepEqual(Object.getOwnPropertyNames(ca).sort(), ['defaultTtlSeconds', 'maxTtlSeconds', 'trustDomain']);
  });

  it('no CaError message or inspection carries key material, even for a broken or misplaced key', async () => {
    const errors: unknown[] = [];
    const variant = (name: string, change: (copy: string) => void): string => {
      const copy = join(tmp.path, name);
      mkdirSync(copy);
      for (const file of ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem']) copyFileSync(join(dir, file), join(copy, file));
      chmodSync(join(copy, 'ca-key.pem'), 0o600);
      change(copy);
      return copy;
    };
    const truncated = variant('truncated-key', (copy) => writeFileSync(join(copy, 'ca-key.pem'), keyPem.slice(0, keyPem.length - 200)));
    const readable = variant('readable-key', (copy) => chmodSync(join(copy, 'ca-key.pem'), 0o644));
    // The key where a certificate belongs: parsers that echo their input would leak it here.
    const keyAsCert = variant('key-as-cert', (copy) => writeFileSync(join(copy, 'ca-cert.pem'), keyPem.replaceAll('PRIVATE KEY', 'CERTIFICATE')));
    const keyAsRoot = variant('key-as-root', (copy) => writeFileSync(join(copy, 'root-cert.pem'), keyPem));
    for (const copy of [truncated, readable, keyAsCert, keyAsRoot]) {
      await loadCa(copy).then(
        () => assert.fail(`${copy} should not load`),
        (error: unknown) => errors.push(error),
      );
    }
    assert.throws(() => ca.sign(keyPem, { namespace: 'a', serviceAccount: 'b' }), (error) => (errors.push(error), true));
    assert.equal(errors.length, 5);
    for (const error of errors) {
      assert.ok(error instanceof CaError, String(error));
      assertNoKey(error.message, keyPem, `message "${error.message}"`);
      assertNoKey(inspect(error, { showHidden: true, depth: Infinity }), keyPem, 'inspect(error)');
      assertNoKey(JSON.stringify(error), keyPem, 'JSON.stringify(error)');
      assert.equal(error.cause, undefined);
    }
  });
});
