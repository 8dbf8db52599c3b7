import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDACTED, redactSecrets } from './redact.ts';

test('header values of credentials and secret-named fields are redacted; the rest is kept', () => {
  const config = {
    headers: { set: [['Authorization', 'Bearer abc'], ['x-canary', 'true']], add: [['cookie', 'session=s3cr3t']] },
    keyPem: '-----BEGIN PRIVATE KEY-----',
    nested: [{ token: 'tkn', name: 'orders' }],
    weight: 90,
    retryOn: new Set(['5xx', 'reset']),
  };
  assert.deepEqual(redactSecrets(config), {
    headers: { set: [['Authorization', REDACTED], ['x-canary', 'true']], add: [['cookie', REDACTED]] },
    keyPem: REDACTED,
    nested: [{ token: REDACTED, name: 'orders' }],
    weight: 90,
    retryOn: ['5xx', 'reset'],
  });
});
