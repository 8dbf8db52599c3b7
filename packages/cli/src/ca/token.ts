// weft ca token: a bootstrap token for one (namespace, service account), for the file
// registry. The token goes to a file only its owner can read; the line for the control
// plane's --bootstrap-tokens file (a digest, never the token) goes to stdout.
import { parseArgs } from 'node:util';
import { newBootstrapToken } from '@weft/controlplane';
import { replaceFile } from './replace-file.ts';
import { required, type Output, type Subcommand } from './subcommand.ts';

export const token: Subcommand = {
  usage: 'weft ca token --namespace NS --service-account SA --out FILE',
  async run(args: string[], stdout: Output): Promise<number> {
    const { values } = parseArgs({ args, options: { namespace: { type: 'string' }, 'service-account': { type: 'string' }, out: { type: 'string' } } });
    const identity = { namespace: required(values.namespace, '--namespace'), serviceAccount: required(values['service-account'], '--service-account') };
    const out = required(values.out, '--out');
    const { token: secret, entry } = newBootstrapToken(identity);
    await replaceFile(out, `${secret}\n`, 0o600);
    stdout.write(`# token written to ${out} (mode 0600); add this line under "tokens:" in the --bootstrap-tokens file:\n${entry}\n`);
    return 0;
  },
};
