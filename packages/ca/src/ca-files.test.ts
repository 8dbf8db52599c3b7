import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CaError } from './ca-error.ts';
import { createRootCa, loadCa, loadOrCreateCa } from './ca-files.ts';
import { generateKeyAndCsr } from './key-and-csr.ts';
import { inspectCertificate } from './inspect.ts';
import { parsePemCertificates } from './pem.ts';
import { makeOperatorCa, temporaryDirectory } from './testing/fixtures.ts';
import { HAVE_OPENSSL, NO_OPENSSL, certificateText, verifyChain } from './testing/openssl.ts';

const ORDERS = { namespace: 'default', serviceAccount: 'orders' };
const FILES = ['ca-cert.pem', 'ca-key.pem', 'root-cert.pem', 'cert-chain.pem'];

function caError(code: string, message?: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof CaError, `expected a CaError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  };
}

function read(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8');
}

/** Copies a generated CA directory so a test can damage its copy. */
function copyCa(from: string, to: string): string {
  mkdirSync(to, { recursive: true });
  for (const file of FILES) copyFileSync(join(from, file), join(to, file));
  chmodSync(join(to, 'ca-key.pem'), 0o600);
  return to;
}

describe('CA files', () => {
  const tmp = temporaryDirectory();
  let rootA: string;
  let rootB: string;

  before(async () => {
    rootA = join(tmp.path, 'root-a');
    rootB = join(tmp.path, 'root-b');
    await Promise.all([createRootCa(rootA), createRootCa(rootB)]);
  });
  after(() => tmp.remove());

  describe('generated root', () => {
    it('loadOrCreateCa creates a self-signed root in an empty directory, key 0600, and loads the same root again', async () => {
      const dir = join(tmp.path, 'fresh');
      const ca = await loadOrCreateCa(dir);
      assert.deepEqual(FILES.filter((file) => existsSync(join(dir, file))), FILES);
      assert.equal(statSync(join(dir, 'ca-key.pem')).mode & 0o777, 0o600);
      assert.equal(read(dir, 'ca-cert.pem'), read(dir, 'root-cert.pem'));
      assert.equal(read(dir, 'ca-cert.pem'), read(dir, 'cert-chain.pem'));
      assert.deepEqual(ca.trustBundle(), [read(dir, 'root-cert.pem')]);
      const again = await loadOrCreateCa(dir);
      assert.deepEqual(again.trustBundle(), ca.trustBundle());
    });

    it('the root is RSA 3072, valid ten years, CA:TRUE and keyCertSign + cRLSign (critical), with a subject key identifier', (t) => {
      const root = new X509Certificate(read(rootA, 'ca-cert.pem'));
      assert.equal(root.publicKey.asymmetricKeyDetails?.modulusLength, 3072);
      const years = (root.validToDate.getTime() - root.validFromDate.getTime()) / (365.25 * 86_400_000);
      assert.ok(years > 9.99 && years < 10.01, `validity ${years} years`);
      const summary = inspectCertificate(root.toString());
      assert.equal(summary.isCa, true);
      assert.equal(summary.subject, 'O=Weft, CN=Weft root CA cluster.local');
      assert.deepEqual(summary.uris, ['spiffe://cluster.local']);
      if (!HAVE_OPENSSL) return t.skip(NO_OPENSSL);
      const text = certificateText(root.toString());
      assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
      assert.match(text, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
      assert.match(text, /X509v3 Subject Key Identifier: /);
    });

    it('createRootCa creates the key file 0600 itself, whatever the umask', async () => {
      const previous = process.umask(0);
      try {
        const dir = join(tmp.path, 'umask-0');
        await createRootCa(dir);
        assert.equal(statSync(join(dir, 'ca-key.pem')).mode & 0o777, 0o600);
        assert.equal(statSync(dir).mode & 0o777, 0o700);
      } finally {
        process.umask(previous);
      }
    });

    it('createRootCa refuses to overwrite any CA file and leaves the directory as it was', async () => {
      const before = read(rootA, 'ca-key.pem');
      await assert.rejects(createRootCa(rootA), caError('WEFT_ERR_CA_FILES', /already holds CA files.*refusing to overwrite/));
      assert.equal(read(rootA, 'ca-key.pem'), before);
      const lone = join(tmp.path, 'lone-file');
      mkdirSync(lone);
      writeFileSync(join(lone, 'root-cert.pem'), 'operator root');
      await assert.rejects(createRootCa(lone), caError('WEFT_ERR_CA_FILES', /root-cert\.pem/));
      assert.equal(existsSync(join(lone, 'ca-key.pem')), false);
    });

    it('loadCa never creates: an empty directory is an error', async () => {
      const dir = join(tmp.path, 'empty');
      mkdirSync(dir);
      await assert.rejects(loadCa(dir), caError('WEFT_ERR_CA_FILES', /holds no CA files.*weft ca init/));
      assert.equal(existsSync(join(dir, 'ca-key.pem')), false);
    });

    it('remembers its trust domain in the root (spiffe://<td> SAN) and refuses a different configured one', async () => {
      const dir = join(tmp.path, 'example-org');
      await createRootCa(dir, { trustDomain: 'example.org' });
      const ca = await loadCa(dir);
      assert.equal(ca.trustDomain, 'example.org');
      assert.equal(ca.sign((await generateKeyAndCsr()).csrPem, ORDERS).spiffeId, 'spiffe://example.org/ns/default/sa/orders');
      await assert.rejects(loadCa(dir, { trustDomain: 'cluster.local' }), caError('WEFT_ERR_CA_FILES', /trust domain "example\.org".*"cluster\.local"/));
    });
  });

  describe('refusals', () => {
    it('WEFT_ERR_CA_FILES for a partial set, naming the missing files, and never regenerates over it', async () => {
      const dir = copyCa(rootA, join(tmp.path, 'partial'));
      unlinkSync(join(dir, 'cert-chain.pem'));
      unlinkSync(join(dir, 'root-cert.pem'));
      const key = read(dir, 'ca-key.pem');
      await assert.rejects(loadOrCreateCa(dir), caError('WEFT_ERR_CA_FILES', /missing root-cert\.pem, cert-chain\.pem/));
      await assert.rejects(loadCa(dir), caError('WEFT_ERR_CA_FILES', /missing root-cert\.pem, cert-chain\.pem/));
      assert.equal(read(dir, 'ca-key.pem'), key);
      assert.equal(existsSync(join(dir, 'root-cert.pem')), false);
    });

    it('WEFT_ERR_CA_KEY_PERMISSIONS for a key readable by group or others, naming file, mode and fix', async () => {
      for (const mode of [0o640, 0o604, 0o660]) {
        const dir = copyCa(rootA, join(tmp.path, `mode-${mode.toString(8)}`));
        const keyPath = join(dir, 'ca-key.pem');
        chmodSync(keyPath, mode);
        const expected = new RegExp(`${keyPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is accessible to group or others \\(mode 0${mode.toString(8)}\\).*chmod 600 `);
        await assert.rejects(loadCa(dir), caError('WEFT_ERR_CA_KEY_PERMISSIONS', expected));
        await assert.rejects(loadOrCreateCa(dir), caError('WEFT_ERR_CA_KEY_PERMISSIONS'));
      }
    });

    it('WEFT_ERR_CA_FILES when the key does not match ca-cert.pem', async () => {
      const dir = copyCa(rootA, join(tmp.path, 'wrong-key'));
      copyFileSync(join(rootB, 'ca-key.pem'), join(dir, 'ca-key.pem'));
      await assert.rejects(loadCa(dir), caError('WEFT_ERR_CA_FILES', /ca-key\.pem: the key does not match the certificate in ca-cert\.pem/));
    });

    it('WEFT_ERR_CA_FILES when ca-cert.pem is not a CA certificate', async () => {
      const source = await loadCa(rootA);
      const leaf = await source.issue(ORDERS);
      const dir = copyCa(rootA, join(tmp.path, 'leaf-as-ca'));
      writeFileSync(join(dir, 'ca-cert.pem'), leaf.certificatePem);
      writeFileSync(join(dir, 'ca-key.pem'), leaf.keyPem, { mode: 0o600 });
      writeFileSync(join(dir, 'cert-chain.pem'), leaf.certificatePem);
      await assert.rejects(loadCa(dir), caError('WEFT_ERR_CA_FILES', /ca-cert\.pem: not a CA certificate/));
    });

    it('WEFT_ERR_CA_FILES when the chain does not lead to a root in root-cert.pem', async () => {
      const dir = copyCa(rootA, join(tmp.path, 'foreign-root'));
      copyFileSync(join(rootB, 'root-cert.pem'), join(dir, 'root-cert.pem'));
      await assert.rejects(loadCa(dir), caError('WEFT_ERR_CA_FILES', /cert-chain\.pem: the chain ends at "O=Weft, CN=Weft root CA cluster\.local", which no certificate in root-cert\.pem issued/));
    });

    it('WEFT_ERR_CA_FILES for unreadable PEM, naming the file', async () => {
      const dir = copyCa(rootA, join(tmp.path, 'garbage'));
      writeFileSync(join(dir, 'root-cert.pem'), 'not a certificate');
      await assert.rejects(loadCa(dir), caError('WEFT_ERR_CA_FILES', /root-cert\.pem: holds no PEM certificate/));
    });
  });

  describe('operator-provided CA (made with openssl)', () => {
    it('loads root + two intermediates; issued chains are leaf + intermediates and verify against the root', async (t) => {
      if (!HAVE_OPENSSL) return t.skip(NO_OPENSSL);
      const operator = makeOperatorCa(join(tmp.path, 'operator-2'), { levels: 2 });
      const ca = await loadCa(operator.dir);
      assert.deepEqual(ca.trustBundle(), parsePemCertificates(operator.rootPem));
      const issued = ca.sign((await generateKeyAndCsr({ identity: ORDERS })).csrPem, ORDERS);
      assert.deepEqual(issued.chainPem.slice(1), operator.intermediatesPem.flatMap(parsePemCertificates));
      const result = verifyChain(ca.trustBundle(), issued.chainPem);
      assert.equal(result.status, 0, result.output);
      assert.notEqual(verifyChain(ca.trustBundle(), [issued.certificatePem]).status, 0, 'the leaf alone must not verify: intermediates are needed');
    });

    it('accepts cert-chain.pem without the root and without ca-cert itself', async (t) => {
      if (!HAVE_OPENSSL) return t.skip(NO_OPENSSL);
      const operator = makeOperatorCa(join(tmp.path, 'operator-short-chain'), { levels: 2 });
      writeFileSync(join(operator.dir, 'cert-chain.pem'), operator.intermediatesPem[1] ?? '');
      const ca = await loadCa(operator.dir);
      const issued = await ca.issue(ORDERS);
      assert.equal(issued.chainPem.length, 3);
      const result = verifyChain(ca.trustBundle(), issued.chainPem);
      assert.equal(result.status, 0, result.output);
    });

    it('caps notAfter at the expiry of an intermediate that expires before the requested TTL', async (t) => {
      if (!HAVE_OPENSSL) return t.skip(NO_OPENSSL);
      const operator = makeOperatorCa(join(tmp.path, 'operator-short-lived'), { levels: 1, intermediateDays: 2 });
      const ca = await loadCa(operator.dir);
      const issued = ca.sign((await generateKeyAndCsr()).csrPem, ORDERS, { ttlSeconds: 5 * 86_400 });
      const intermediate = new X509Certificate(operator.intermediatesPem[0] ?? '');
      assert.equal(issued.notAfter.getTime(), intermediate.validToDate.getTime());
      const result = verifyChain(ca.trustBundle(), issued.chainPem);
      assert.equal(result.status, 0, result.output);
    });
  });

  it('caps notAfter at the expiry of a generated root', async () => {
    const dir = join(tmp.path, 'one-day-root');
    await createRootCa(dir, { rootTtlDays: 1 });
    const ca = await loadCa(dir, { maxTtlSeconds: 7 * 86_400 });
    const issued = ca.sign((await generateKeyAndCsr()).csrPem, ORDERS, { ttlSeconds: 3 * 86_400 });
    assert.equal(issued.notAfter.getTime(), new X509Certificate(read(dir, 'ca-cert.pem')).validToDate.getTime());
    assert.equal(ca.expiresAt.getTime(), issued.notAfter.getTime());
  });

  it('trust bundle with two roots (CA rotation): leaves of either CA verify against it; the signing root comes first', async (t) => {
    const bundle = read(rootA, 'root-cert.pem') + read(rootB, 'root-cert.pem');
    const underA = copyCa(rootA, join(tmp.path, 'rotation-a'));
    const underB = copyCa(rootB, join(tmp.path, 'rotation-b'));
    writeFileSync(join(underA, 'root-cert.pem'), bundle);
    writeFileSync(join(underB, 'root-cert.pem'), bundle);
    const [caA, caB] = await Promise.all([loadCa(underA), loadCa(underB)]);
    assert.deepEqual(caA.trustBundle(), [read(rootA, 'root-cert.pem'), read(rootB, 'root-cert.pem')]);
    assert.deepEqual(caB.trustBundle(), [read(rootB, 'root-cert.pem'), read(rootA, 'root-cert.pem')]);
    const { csrPem } = await generateKeyAndCsr({ identity: ORDERS });
    const fromA = caA.sign(csrPem, ORDERS);
    const fromB = caB.sign(csrPem, ORDERS);
    if (!HAVE_OPENSSL) return t.skip(NO_OPENSSL);
    for (const issued of [fromA, fromB]) {
      const result = verifyChain(caA.trustBundle(), issued.chainPem);
      assert.equal(result.status, 0, result.output);
    }
    assert.notEqual(verifyChain([read(rootA, 'root-cert.pem')], fromB.chainPem).status, 0, 'B\'s leaf must not verify against A alone');
  });
});
