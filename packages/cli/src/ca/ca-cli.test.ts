// `weft ca` as an operator runs it: real processes, real files, OpenSSL as the checker.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate, createHash, createPrivateKey } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'main.ts');
const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;
const NO_OPENSSL = 'openssl is not on PATH; this test uses it as an independent checker';

function weft(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function openssl(args: string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync('openssl', args, { encoding: 'utf8', cwd });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('weft ca', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'weft-ca-cli-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const ca = join(tmp, 'ca');
  const out = join(tmp, 'out');

  it('token writes a 0600 token file and prints the digest line for the tokens file', () => {
    const file = join(tmp, 'orders.token');
    const result = weft('ca', 'token', '--namespace', 'default', '--service-account', 'orders', '--out', file);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const token = readFileSync(file, 'utf8').trim();
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(result.stdout.includes(`- {namespace: default, serviceAccount: orders, sha256: ${createHash('sha256').update(token).digest('hex')}}`));
    assert.ok(!result.stdout.includes(token), 'the token itself is not printed');
  });

  it('init -> issue -> inspect, and openssl verifies the issued files', (t) => {
    const init = weft('ca', 'init', '--dir', ca, '--trust-domain', 'example.org');
    assert.equal(init.status, 0, init.stderr);
    assert.match(init.stdout, /created a root CA for trust domain example\.org/);
    assert.equal(statSync(join(ca, 'ca-key.pem')).mode & 0o777, 0o600);

    const issue = weft('ca', 'issue', '--dir', ca, '--namespace', 'default', '--service-account', 'orders', '--ttl', '1h', '--out-dir', out);
    assert.equal(issue.status, 0, issue.stderr);
    assert.match(issue.stdout, /^issued spiffe:\/\/example\.org\/ns\/default\/sa\/orders, serial [0-9A-F]{32}, valid until /);
    assert.equal(statSync(join(out, 'key.pem')).mode & 0o777, 0o600);
    const certPem = readFileSync(join(out, 'cert.pem'), 'utf8');
    const leaf = new X509Certificate(certPem);
    assert.ok(leaf.checkPrivateKey(createPrivateKey(readFileSync(join(out, 'key.pem'), 'utf8'))));
    assert.equal(leaf.validToDate.getTime() - leaf.validFromDate.getTime(), (3600 + 60) * 1000);
    assert.equal(readFileSync(join(out, 'root-cert.pem'), 'utf8'), readFileSync(join(ca, 'root-cert.pem'), 'utf8'));

    const inspect = weft('ca', 'inspect', join(out, 'cert.pem'));
    assert.equal(inspect.status, 0, inspect.stderr);
    assert.match(inspect.stdout, /^subject: +\(empty\)$/m);
    assert.match(inspect.stdout, /^spiffe id: +spiffe:\/\/example\.org\/ns\/default\/sa\/orders$/m);
    assert.match(inspect.stdout, /^issuer: +O=Weft, CN=Weft root CA example\.org$/m);
    assert.match(inspect.stdout, /^not after: +\S+ \(expires in (59m \d+s|1h 0m)\)$/m);
    assert.match(inspect.stdout, /^ca: +no$/m);
    assert.match(inspect.stdout, new RegExp(`^serial: +${leaf.serialNumber}$`, 'm'));

    if (!HAVE_OPENSSL) return t.skip(NO_OPENSSL);
    const verify = openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', 'root-cert.pem', 'cert.pem'], out);
    assert.equal(verify.status, 0, verify.output);
  });

  it('issue writes leaf + intermediates to cert.pem for an operator CA with an intermediate', (t) => {
    if (!HAVE_OPENSSL) return t.skip(NO_OPENSSL);
    const work = join(tmp, 'operator');
    mkdirSync(work);
    const run = (args: string[]): void => assert.equal(openssl(args, work).status, 0, args.join(' '));
    writeFileSync(join(work, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid:always\n');
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root-cert.pem', '-days', '30', '-subj', '/CN=Operator Root',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.csr', '-subj', '/CN=Operator Intermediate']);
    run(['x509', '-req', '-in', 'ca.csr', '-CA', 'root-cert.pem', '-CAkey', 'root.key', '-set_serial', '7', '-days', '20', '-extfile', 'ca.ext', '-out', 'ca-cert.pem']);
    chmodSync(join(work, 'ca-key.pem'), 0o600);
    writeFileSync(join(work, 'cert-chain.pem'), readFileSync(join(work, 'ca-cert.pem'), 'utf8') + readFileSync(join(work, 'root-cert.pem'), 'utf8'));

    const operatorOut = join(tmp, 'operator-out');
    const issue = weft('ca', 'issue', '--dir', work, '--namespace', 'shop', '--service-account', 'cart', '--out-dir', operatorOut);
    assert.equal(issue.status, 0, issue.stderr);
    assert.match(issue.stdout, /cert\.pem \(leaf \+ 1 intermediate\(s\)\)/);
    const inspect = weft('ca', 'inspect', join(operatorOut, 'cert.pem'));
    assert.match(inspect.stdout, /^further certificates in .*cert\.pem:\n {2}2: CN=Operator Intermediate; CA; issuer CN=Operator Root; expires in /m);
    const verify = openssl(['verify', '-x509_strict', '-CAfile', 'root-cert.pem', '-untrusted', 'cert.pem', 'cert.pem'], operatorOut);
    assert.equal(verify.status, 0, verify.output);
  });

  it('init refuses a directory that already holds a CA (exit 1), issue never creates one', () => {
    const again = weft('ca', 'init', '--dir', ca);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^weft ca init: .*already holds CA files.*refusing to overwrite/);
    const empty = join(tmp, 'empty');
    const issue = weft('ca', 'issue', '--dir', empty, '--namespace', 'a', '--service-account', 'b', '--out-dir', join(tmp, 'never'));
    assert.equal(issue.status, 1);
    assert.match(issue.stderr, /^weft ca issue: .*holds no CA files/);
    assert.throws(() => statSync(join(empty, 'ca-key.pem')));
  });

  it('issue refuses a group-readable CA key, naming the fix', () => {
    const loose = join(tmp, 'loose');
    assert.equal(weft('ca', 'init', '--dir', loose).status, 0);
    chmodSync(join(loose, 'ca-key.pem'), 0o640);
    const issue = weft('ca', 'issue', '--dir', loose, '--namespace', 'a', '--service-account', 'b', '--out-dir', join(tmp, 'loose-out'));
    assert.equal(issue.status, 1);
    assert.match(issue.stderr, /^weft ca issue: .*ca-key\.pem is accessible to group or others \(mode 0640\).*chmod 600 /);
  });

  it('usage mistakes exit 2 with the usage', () => {
    for (const args of [
      ['ca'],
      ['ca', 'frobnicate'],
      ['ca', 'init'],
      ['ca', 'issue', '--dir', ca, '--namespace', 'a', '--out-dir', out],
      ['ca', 'issue', '--dir', ca, '--namespace', 'a', '--service-account', 'b', '--out-dir', out, '--ttl', '90'],
      ['ca', 'inspect'],
      ['ca', 'inspect', '--bogus', 'x'],
    ]) {
      const result = weft(...args);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /usage: weft ca/, args.join(' '));
    }
  });

  it('inspect of a file without certificates exits 1', () => {
    const file = join(tmp, 'not-a-cert.pem');
    writeFileSync(file, 'hello\n');
    const result = weft('ca', 'inspect', file);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^weft ca inspect: .*holds no PEM certificate/);
  });
});
