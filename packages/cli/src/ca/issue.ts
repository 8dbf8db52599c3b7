// weft ca issue: a key and certificate for one workload identity from the CA in a directory,
// for debugging and tests. It only loads the CA; it never creates one.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCa } from '@weft/ca';
import { replaceFile } from './replace-file.ts';
import { required, type Output, type Subcommand } from './subcommand.ts';
import { formatDuration, parseTtl } from './ttl.ts';

export const issue: Subcommand = {
  usage: 'weft ca issue --dir DIR --namespace NS --service-account SA --out-dir OUT [--ttl 1h] [--trust-domain TD]',
  async run(args: string[], stdout: Output): Promise<number> {
    const { values } = parseArgs({
      args,
      options: {
        dir: { type: 'string' },
        namespace: { type: 'string' },
        'service-account': { type: 'string' },
        'out-dir': { type: 'string' },
        ttl: { type: 'string' },
        'trust-domain': { type: 'string' },
      },
    });
    const dir = required(values.dir, '--dir');
    const identity = { namespace: required(values.namespace, '--namespace'), serviceAccount: required(values['service-account'], '--service-account') };
    const outDir = required(values['out-dir'], '--out-dir');
    const ttlSeconds = values.ttl === undefined ? undefined : parseTtl(values.ttl);

    const ca = await loadCa(dir, { trustDomain: values['trust-domain'] });
    const issued = await ca.issue(identity, { ttlSeconds });
    await mkdir(outDir, { recursive: true, mode: 0o700 });
    await replaceFile(join(outDir, 'key.pem'), issued.keyPem, 0o600);
    await replaceFile(join(outDir, 'cert.pem'), issued.chainPem.join(''), 0o644);
    await replaceFile(join(outDir, 'root-cert.pem'), ca.trustBundle().join(''), 0o644);

    const requested = ttlSeconds ?? ca.defaultTtlSeconds;
    const granted = Math.round((issued.notAfter.getTime() - Date.now()) / 1000);
    const capped = granted < requested - 5 ? ` (capped: the CA issues at most ${formatDuration(ca.maxTtlSeconds * 1000)}, and never past its own expiry)` : '';
    stdout.write(`issued ${issued.spiffeId}, serial ${issued.serialNumber}, valid until ${issued.notAfter.toISOString()}${capped}\n`);
    stdout.write(`  ${join(outDir, 'key.pem')} (mode 0600)\n`);
    stdout.write(`  ${join(outDir, 'cert.pem')} (leaf + ${issued.chainPem.length - 1} intermediate(s))\n`);
    stdout.write(`  ${join(outDir, 'root-cert.pem')} (${ca.trustBundle().length} root(s))\n`);
    return 0;
  },
};
