// The files a mesh with identities needs on one machine: a CA directory, the control plane's
// bootstrap token digests, and one token file per service account for its sidecars.
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRootCa } from '@weft/ca';
import { newBootstrapToken } from '@weft/controlplane';

export class IdentityFiles {
  readonly caDir: string;
  readonly tokensFile: string;
  private readonly tokenDir: string;
  /** Lines of the tokens file, by "namespace.serviceAccount". */
  private readonly entries = new Map<string, string>();

  constructor(dir: string) {
    this.caDir = join(dir, 'ca');
    this.tokensFile = join(dir, 'bootstrap-tokens.yaml');
    this.tokenDir = join(dir, 'tokens');
  }

  get rootCertFile(): string {
    return join(this.caDir, 'root-cert.pem');
  }

  /** Creates the CA (once) and an empty token list. */
  async prepare(): Promise<void> {
    if (!existsSync(join(this.caDir, 'ca-key.pem'))) await createRootCa(this.caDir);
    await mkdir(this.tokenDir, { recursive: true, mode: 0o700 });
    if (!existsSync(this.tokensFile)) await this.writeDigests();
  }

  /** The token file for (namespace, service account), creating and registering a token once. */
  async tokenFile(namespace: string, serviceAccount: string): Promise<string> {
    const key = `${namespace}.${serviceAccount}`;
    const file = join(this.tokenDir, `${key}.token`);
    if (!this.entries.has(key)) {
      const { token, entry } = newBootstrapToken({ namespace, serviceAccount });
      this.entries.set(key, entry);
      await writeFile(file, `${token}\n`, { mode: 0o600 });
      await this.writeDigests();
    }
    return file;
  }

  private async writeDigests(): Promise<void> {
    const entries = [...this.entries.values()];
    const temporary = `${this.tokensFile}.tmp`;
    await writeFile(temporary, entries.length > 0 ? `tokens:\n${entries.join('\n')}\n` : 'tokens: []\n');
    await rename(temporary, this.tokensFile);
  }
}
