// weft ca init: a self-signed root CA in a directory, for file-mode meshes and tests.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createRootCa, loadCa } from '@weft/ca';
import { required, type Output, type Subcommand } from './subcommand.ts';

export const init: Subcommand = {
  usage: 'weft ca init --dir DIR [--trust-domain TD]',
  async run(args: string[], stdout: Output): Promise<number> {
    const { values } = parseArgs({ args, options: { dir: { type: 'string' }, 'trust-domain': { type: 'string' } } });
    const dir = required(values.dir, '--dir');
    await createRootCa(dir, { trustDomain: values['trust-domain'] });
    // Load it back: the same checks `weft ca issue` and the control plane will make.
    const ca = await loadCa(dir);
    stdout.write(`created a root CA for trust domain ${ca.trustDomain}, valid until ${ca.expiresAt.toISOString()}\n`);
    stdout.write(`  ${join(dir, 'ca-key.pem')} (mode 0600)\n  ${join(dir, 'ca-cert.pem')}, root-cert.pem, cert-chain.pem\n`);
    return 0;
  },
};
