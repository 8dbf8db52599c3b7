// weft ca inspect: what a PEM file's certificates say, for people.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CaError, inspectCertificate, parsePemCertificates, type CertificateSummary } from '@weft/ca';
import { UsageError, type Output, type Subcommand } from './subcommand.ts';
import { formatDuration } from './ttl.ts';

function list(values: readonly string[]): string {
  return values.length > 0 ? values.join(', ') : '(none)';
}

function expiry(notAfter: Date, now: number): string {
  const remaining = notAfter.getTime() - now;
  return remaining > 0 ? `expires in ${formatDuration(remaining)}` : `expired ${formatDuration(remaining)} ago`;
}

export function describeCertificate(summary: CertificateSummary, now: number): string {
  const lines = [
    ['subject', summary.subject || '(empty)'],
    ['spiffe id', list(summary.spiffeIds)],
    ['dns names', list(summary.dnsNames)],
    ...(summary.ipAddresses.length > 0 ? [['ip addresses', list(summary.ipAddresses)]] : []),
    ['issuer', summary.issuer],
    ['not before', summary.notBefore.toISOString()],
    ['not after', `${summary.notAfter.toISOString()} (${expiry(summary.notAfter, now)})`],
    ['ca', summary.isCa ? 'yes' : 'no'],
    ['serial', summary.serialNumber],
  ];
  return lines.map(([label, value]) => `${`${label}:`.padEnd(14)}${value}`).join('\n');
}

function describeFurther(summary: CertificateSummary, position: number, now: number): string {
  const kind = summary.isCa ? 'CA' : `leaf ${list(summary.spiffeIds)}`;
  return `  ${position}: ${summary.subject || '(empty subject)'}; ${kind}; issuer ${summary.issuer}; ${expiry(summary.notAfter, now)} (${summary.notAfter.toISOString()})`;
}

export const inspect: Subcommand = {
  usage: 'weft ca inspect FILE',
  async run(args: string[], stdout: Output): Promise<number> {
    const { positionals } = parseArgs({ args, options: {}, allowPositionals: true });
    if (positionals.length !== 1) throw new UsageError('expected exactly one FILE');
    const file = positionals[0] as string;
    const certificates = parsePemCertificates(await readFile(file, 'utf8'));
    if (certificates.length === 0) throw new CaError('WEFT_ERR_CERT_MALFORMED', `${file} holds no PEM certificate`);
    const [first, ...further] = certificates.map((pem) => inspectCertificate(pem));
    const now = Date.now();
    stdout.write(`${describeCertificate(first as CertificateSummary, now)}\n`);
    if (further.length > 0) {
      stdout.write(`further certificates in ${file}:\n${further.map((summary, index) => describeFurther(summary, index + 2, now)).join('\n')}\n`);
    }
    return 0;
  },
};
