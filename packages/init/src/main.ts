#!/usr/bin/env node
// weft-init: run once in a pod's network namespace (an init container with NET_ADMIN) before
// the proxy starts; sends the pod's TCP traffic through the proxy. Idempotent: running it again
// leaves the same rules. --cleanup removes exactly what it added.
import { parseArgs } from 'node:util';
import { CaptureFlagError, captureOptions } from './capture-flags.ts';
import { captureRules, rewriteNatTable } from './capture-rules.ts';
import { restoreTables, saveNatTable } from './iptables.ts';

const USAGE = `usage: weft-init [options]

  --proxy-uid UID                  the proxy's UID (and GID): its own traffic is never captured; default 1337
  --inbound-capture-port PORT      where inbound TCP goes; default 15006
  --outbound-capture-port PORT     where outbound TCP goes; default 15001
  --exclude-inbound-ports P,P      inbound ports left alone (the proxy's 15021 and 15090 belong here)
  --exclude-outbound-ports P,P     outbound ports left alone
  --exclude-outbound-cidrs C,C     outbound destinations left alone
  --include-outbound-cidrs C,C     capture only these destinations ("*": all, the default; "": none)
  --dry-run                        print the rules (iptables-restore format) and change nothing
  --cleanup                        remove Weft's rules and chains

Needs iptables (nft or legacy backend, whichever iptables-save/iptables-restore run).`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      'proxy-uid': { type: 'string', default: '1337' },
      'inbound-capture-port': { type: 'string', default: '15006' },
      'outbound-capture-port': { type: 'string', default: '15001' },
      'exclude-inbound-ports': { type: 'string' },
      'exclude-outbound-ports': { type: 'string' },
      'exclude-outbound-cidrs': { type: 'string' },
      'include-outbound-cidrs': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      cleanup: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (values.cleanup) {
    if (values['dry-run']) process.stdout.write(rewriteNatTable(await saveNatTable(), undefined));
    else await restoreTables(rewriteNatTable(await saveNatTable(), undefined));
    return 0;
  }
  const rules = captureRules(captureOptions(values));
  if (values['dry-run']) {
    process.stdout.write(['*nat', ...rules, 'COMMIT', ''].join('\n'));
    return 0;
  }
  await restoreTables(rewriteNatTable(await saveNatTable(), rules));
  process.stderr.write(`weft-init: ${rules.length} rules installed in the nat table\n`);
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  const usage = error instanceof CaptureFlagError || String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`weft-init: ${(error as Error).message}\n${usage ? `${USAGE}\n` : ''}`);
  process.exitCode = usage ? 2 : 1;
}
