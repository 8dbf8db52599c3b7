// Hostile certificate requests: seeded random damage to a valid CSR (flipped bits, truncation,
// random DER, random PEM text) and the keys and algorithms the CA does not take (DSA, a SHA-1
// signature). Property: CertificateAuthority.sign refuses each with a CaError of a CSR code and
// a message that does not quote the request — never another exception. Replay a failure with
// FUZZ_SEED=<seed>.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fuzzSeed, SeededRandom } from '@weft/runtime';
import { CaError } from './ca-error.ts';
import { loadOrCreateCa } from './ca-files.ts';
import type { CertificateAuthority } from './certificate-authority.ts';
import { generateKeyAndCsr } from './key-and-csr.ts';
import { temporaryDirectory, withPublicKey } from './testing/fixtures.ts';
import { HAVE_OPENSSL, NO_OPENSSL, mustOpenssl } from './testing/openssl.ts';

const ORDERS = { namespace: 'default', serviceAccount: 'orders' };
const CASES = 2000;
const CSR_CODES = ['WEFT_ERR_CSR_MALFORMED', 'WEFT_ERR_CSR_TOO_LARGE', 'WEFT_ERR_CSR_WEAK_KEY', 'WEFT_ERR_CSR_BAD_SIGNATURE', 'WEFT_ERR_CSR_IDENTITY_MISMATCH'];

const pem = (der: Buffer): string => `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;

describe('CSR fuzz', () => {
  const tmp = temporaryDirectory();
  let ca: CertificateAuthority;
  let validPem: string;
  let validDer: Buffer;

  before(async () => {
    ca = await loadOrCreateCa(join(tmp.path, 'ca'));
    validPem = (await generateKeyAndCsr({ identity: ORDERS })).csrPem;
    validDer = Buffer.from(validPem.split('\n').slice(1, -2).join(''), 'base64');
  });
  after(() => tmp.remove());

  function assertRefused(csr: string, context: string, code?: string): void {
    assert.throws(() => ca.sign(csr, ORDERS), (error: unknown) => {
      assert.ok(error instanceof CaError, `${context}: threw ${(error as Error).stack ?? String(error)}`);
      assert.ok(CSR_CODES.includes(error.code), `${context}: ${error.code}`);
      if (code) assert.equal(error.code, code, `${context}: ${error.message}`);
      assert.ok(error.message.length < 300, `${context}: ${error.message.length} characters`);
      return true;
    }, context);
  }

  it(`${CASES} damaged requests: each refused with a CaError of a CSR code`, () => {
    const seed = fuzzSeed(0x5eed_0006);
    const random = new SeededRandom(seed);
    for (let index = 0; index < CASES; index++) {
      const der = Buffer.from(validDer);
      let what: string;
      let text: string;
      switch (random.int(4)) {
        case 0: {
          const count = 1 + random.int(4);
          for (let i = 0; i < count; i++) {
            const at = random.int(der.length);
            der[at] = (der[at] as number) ^ (1 << random.int(8));
          }
          what = `${count} bit(s) flipped`;
          text = pem(der);
          break;
        }
        case 1: {
          const end = random.int(der.length);
          what = `truncated at ${end}`;
          text = pem(der.subarray(0, end));
          break;
        }
        case 2: {
          const noise = Buffer.alloc(random.int(2000));
          for (let i = 0; i < noise.length; i++) noise[i] = random.int(256);
          // Half of them look like the start of a SEQUENCE, to get past the first byte.
          if (noise.length > 2 && random.chance(0.5)) noise[0] = 0x30;
          what = `${noise.length} random bytes`;
          text = pem(noise);
          break;
        }
        default: {
          const at = random.int(validPem.length);
          const insert = String.fromCharCode(random.int(128));
          what = `${JSON.stringify(insert)} inserted into the PEM at ${at}`;
          text = `${validPem.slice(0, at)}${insert}${validPem.slice(at)}`;
        }
      }
      const context = `seed ${seed} case ${index} (${what})`;
      try {
        ca.sign(text, ORDERS);
      } catch (error) {
        assert.ok(error instanceof CaError && CSR_CODES.includes(error.code), `${context}: threw ${(error as Error).stack ?? String(error)}`);
        continue;
      }
      // A change the signature does not cover (PEM whitespace, or a bit in an unused place) may still be the same request.
      assert.ok(/inserted into the PEM|bit/.test(what), `${context}: accepted`);
    }
  });

  it('refuses a 1 MB request by its size, a DSA key, and a SHA-1 signature', (t) => {
    assertRefused(`${validPem}${'A'.repeat(1024 * 1024)}`, '1 MB', 'WEFT_ERR_CSR_TOO_LARGE');
    const { publicKey } = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
    assertRefused(withPublicKey(validPem, publicKey.export({ format: 'der', type: 'spki' })), 'DSA key', 'WEFT_ERR_CSR_MALFORMED');
    if (!HAVE_OPENSSL) return t.skip(`${NO_OPENSSL} (to make a SHA-1 signed CSR)`);
    const dir = temporaryDirectory();
    try {
      mustOpenssl(['req', '-new', '-sha1', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'csr.pem', '-subj', '/CN=orders'], { cwd: dir.path });
      assertRefused(mustOpenssl(['req', '-in', join(dir.path, 'csr.pem')]), 'SHA-1', 'WEFT_ERR_CSR_MALFORMED');
    } finally {
      dir.remove();
    }
  });
});
