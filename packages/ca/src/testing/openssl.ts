// OpenSSL as an independent checker in tests. Tests that need it skip, with a reason, when the
// openssl command is missing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const HAVE_OPENSSL = spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;
export const NO_OPENSSL = 'openssl is not on PATH; this test uses it as an independent checker';

export interface OpensslResult {
  readonly status: number | null;
  readonly output: string;
}

export function openssl(args: readonly string[], options: { cwd?: string; input?: string } = {}): OpensslResult {
  const result = spawnSync('openssl', args, { encoding: 'utf8', cwd: options.cwd, input: options.input });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Like openssl(), but throws with OpenSSL's output when it fails. */
export function mustOpenssl(args: readonly string[], options: { cwd?: string; input?: string } = {}): string {
  const result = openssl(args, options);
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${result.output}`);
  return result.output;
}

/**
 * `openssl verify -x509_strict` of `chain` (leaf first, then intermediates) against the PEM roots
 * in `bundle`, for TLS server and client use.
 */
export function verifyChain(bundle: readonly string[], chain: readonly string[]): OpensslResult {
  const dir = mkdtempSync(join(tmpdir(), 'weft-verify-'));
  try {
    writeFileSync(join(dir, 'bundle.pem'), bundle.join(''));
    writeFileSync(join(dir, 'leaf.pem'), chain[0] ?? '');
    const untrusted = chain.length > 1 ? ['-untrusted', 'intermediates.pem'] : [];
    writeFileSync(join(dir, 'intermediates.pem'), chain.slice(1).join(''));
    let output = '';
    for (const purpose of ['sslserver', 'sslclient']) {
      const result = openssl(['verify', '-x509_strict', '-purpose', purpose, '-CAfile', 'bundle.pem', ...untrusted, 'leaf.pem'], { cwd: dir });
      output += result.output;
      if (result.status !== 0) return { status: result.status, output };
    }
    return { status: 0, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl x509 -text` of one PEM certificate. */
export function certificateText(pem: string): string {
  return mustOpenssl(['x509', '-noout', '-text'], { input: pem });
}
