import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodePem, parsePemCertificates } from './pem.ts';

describe('parsePemCertificates', () => {
  const one = encodePem('CERTIFICATE', Buffer.from('first certificate bytes'));
  const two = encodePem('CERTIFICATE', Buffer.alloc(100, 7));

  it('splits a bundle into single certificates, ignoring text between blocks and other block types', () => {
    const bundle = `subject=O=Weft\n${one}\n# comment\r\n${encodePem('PRIVATE KEY', Buffer.from('k'))}${two.replaceAll('\n', '\r\n')}`;
    assert.deepEqual(parsePemCertificates(bundle), [one, two]);
  });

  it('returns nothing for text without certificates', () => {
    assert.deepEqual(parsePemCertificates(''), []);
    assert.deepEqual(parsePemCertificates('-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n'), []);
  });

  it('wraps base64 at 64 characters', () => {
    const lines = two.split('\n');
    assert.equal(lines[1]?.length, 64);
  });
});
