// weft ca: operator commands over the same library as the control plane's CA service.
import { init } from './init.ts';
import { inspect } from './inspect.ts';
import { issue } from './issue.ts';
import { UsageError, type Output, type Subcommand } from './subcommand.ts';
import { token } from './token.ts';

const SUBCOMMANDS: Record<string, Subcommand> = { init, issue, inspect, token };

const USAGE = `usage: ${init.usage}
       ${issue.usage}
       ${inspect.usage}
       ${token.usage}

  init     create a self-signed root CA in DIR (ca-key.pem is created mode 0600);
           refuses if DIR already holds CA files
  issue    issue a key and certificate from the CA in DIR (never creates a CA); writes
           OUT/key.pem (0600), OUT/cert.pem (leaf + intermediates), OUT/root-cert.pem (roots)
  inspect  print subject, SPIFFE ID, DNS names, validity, issuer, CA or not and serial of the
           first certificate in FILE, and one line per further certificate
  token    write a new bootstrap token for NS/SA to FILE (0600) and print its line for the
           control plane's --bootstrap-tokens file (which holds only SHA-256 digests)

  --ttl D           lifetime: 30s, 10m, 1h or 7d (default 24h; at most 7d, and never past the CA's expiry)
  --trust-domain T  default: the trust domain named in the CA certificate, else cluster.local

DIR uses Istio's cacerts layout: ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem.`;

function isUsageError(error: unknown): boolean {
  return error instanceof UsageError || String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
}

export const caCommand = {
  summary: 'create a root CA, issue certificates and bootstrap tokens, inspect certificates',
  usage: USAGE,
  async run(args: string[], stdout: Output = process.stdout, stderr: Output = process.stderr): Promise<number> {
    const [name, ...rest] = args;
    const subcommand = name === undefined ? undefined : SUBCOMMANDS[name];
    if (name === undefined || !subcommand) {
      stderr.write(`${name === undefined ? '' : `weft ca: unknown subcommand "${name}"\n`}${USAGE}\n`);
      return 2;
    }
    try {
      return await subcommand.run(rest, stdout);
    } catch (error) {
      const usage = isUsageError(error);
      stderr.write(`weft ca ${name}: ${(error as Error).message}\n${usage ? `usage: ${subcommand.usage}\n` : ''}`);
      return usage ? 2 : 1;
    }
  },
};
