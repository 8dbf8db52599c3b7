// Bootstrap tokens for the file registry: each token is bound to one (namespace, service
// account). The file lists only SHA-256 digests of tokens, so reading it (or a leaked copy)
// does not let anyone obtain a certificate:
//
//   tokens:
//   - {namespace: default, serviceAccount: orders, sha256: 9f86d08188...}
//
// The file is re-read when it changes, so workloads can be added without a restart.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { parse } from 'yaml';
import type { WorkloadIdentity } from '@weft/ca';
import type { Logger } from '@weft/runtime';
import { Field, FieldError } from '../registry/field.ts';
import type { Authenticator } from './authenticator.ts';

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A fresh random token (256 bits) for `identity`, and its line for the tokens file. */
export function newBootstrapToken(identity: WorkloadIdentity): { token: string; entry: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, entry: `- {namespace: ${identity.namespace}, serviceAccount: ${identity.serviceAccount}, sha256: ${tokenDigest(token)}}` };
}

type TokenEntry = { readonly sha256: string; readonly identity: WorkloadIdentity };

async function readTokens(path: string): Promise<Map<string, WorkloadIdentity>> {
  const text = await readFile(path, 'utf8');
  try {
    return new Map(parseTokens(parse(text) as unknown).map((entry) => [entry.sha256, entry.identity]));
  } catch (error) {
    // The file holds digests, not tokens, but its text is still not echoed into errors.
    throw new Error(error instanceof FieldError ? `${path}: ${error.message}` : `${path}: not valid YAML`, { cause: error });
  }
}

export class BootstrapTokenAuthenticator implements Authenticator {
  private byDigest: ReadonlyMap<string, WorkloadIdentity>;
  private readonly file: { readonly path: string; readonly log: Logger; mtimeMs: number } | undefined;

  private constructor(byDigest: ReadonlyMap<string, WorkloadIdentity>, file?: { path: string; log: Logger; mtimeMs: number }) {
    this.byDigest = byDigest;
    this.file = file;
  }

  static of(entries: readonly TokenEntry[]): BootstrapTokenAuthenticator {
    return new BootstrapTokenAuthenticator(new Map(entries.map((entry) => [entry.sha256, entry.identity])));
  }

  /** Reads `path` now (an invalid file is an error) and again whenever it changes. */
  static async fromFile(path: string, log: Logger): Promise<BootstrapTokenAuthenticator> {
    const { mtimeMs } = await stat(path);
    return new BootstrapTokenAuthenticator(await readTokens(path), { path, log, mtimeMs });
  }

  async authenticate(token: string): Promise<WorkloadIdentity | undefined> {
    await this.refresh();
    // Looked up by digest: timing can at most reveal something about the digest of the
    // caller's own guess, never about a valid token.
    return this.byDigest.get(tokenDigest(token));
  }

  /** A changed file replaces the tokens; an unreadable or invalid one keeps the last good set. */
  private async refresh(): Promise<void> {
    if (!this.file) return;
    const file = this.file;
    const mtimeMs = await stat(file.path).then((stats) => stats.mtimeMs, () => file.mtimeMs);
    if (mtimeMs === file.mtimeMs) return;
    file.mtimeMs = mtimeMs;
    try {
      this.byDigest = await readTokens(file.path);
      file.log.info({ path: file.path, tokens: this.byDigest.size }, 'bootstrap tokens reloaded');
    } catch (error) {
      file.log.error({ error: (error as Error).message }, 'bootstrap token file refused; keeping the last good tokens');
    }
  }
}

function parseTokens(value: unknown): { sha256: string; identity: WorkloadIdentity }[] {
  const root = new Field(value).object(['tokens']);
  return root.get('tokens').list().map((entry) => {
    entry.object(['namespace', 'serviceAccount', 'sha256']);
    const sha256 = entry.get('sha256').string().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha256)) entry.get('sha256').fail('must be the 64 hex digits of a SHA-256 digest (never the token itself)');
    return { sha256, identity: { namespace: entry.get('namespace').dnsLabel(), serviceAccount: entry.get('serviceAccount').dnsLabel() } };
  });
}
