import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { PROXY_NODE_OPTIONS } from '@weft/runtime';

test('weft-proxy started as a program gets the V8 settings the injector gives the sidecar container', async () => {
  const [shebang] = (await readFile(new URL('./main.ts', import.meta.url), 'utf8')).split('\n');
  assert.equal(shebang, `#!/usr/bin/env -S node ${PROXY_NODE_OPTIONS}`);
});
