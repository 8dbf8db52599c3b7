// Writing secrets with the right mode, also over an existing file.
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes `path` with `mode` whether or not it exists: a new file created with that mode is
 * renamed over the old one (writeFile's mode only applies to files it creates, so writing over
 * an existing 0644 key.pem would keep 0644).
 */
export async function replaceFile(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, content, { mode, flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
