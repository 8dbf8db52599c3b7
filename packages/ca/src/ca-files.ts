// The CA on disk, in Istio's cacerts layout: ca-cert.pem (signing CA), ca-key.pem (its key,
// mode 0600), root-cert.pem (one or more roots: the trust bundle), cert-chain.pem (ca-cert up
// to the root). A directory holding some but not all of these is an error, never regenerated.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CaError } from './ca-error.ts';
import { CA_FILES, checkCaMaterial, type CaFileTexts } from './ca-material.ts';
import { CertificateAuthority } from './certificate-authority.ts';
import { generateRoot } from './root-ca.ts';
import { DEFAULT_TRUST_DOMAIN, resolveLifetimes, resolveTrustDomain, type CaSettings } from './settings.ts';

type CaFile = keyof typeof CA_FILES;
const FILE_KEYS = Object.keys(CA_FILES) as CaFile[];

function errorCode(error: unknown): string | undefined {
  return (error as { code?: unknown }).code as string | undefined;
}

/** Which of the four files exist in `dir`. */
async function presentFiles(dir: string): Promise<Set<CaFile>> {
  const present = new Set<CaFile>();
  for (const file of FILE_KEYS) {
    const path = join(dir, CA_FILES[file]);
    try {
      await stat(path);
      present.add(file);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ENOTDIR') throw new CaError('WEFT_ERR_CA_FILES', `${path}: cannot be read (${errorCode(error) ?? 'error'})`);
    }
  }
  return present;
}

function names(files: Iterable<CaFile>): string {
  return [...files].map((file) => CA_FILES[file]).join(', ');
}

async function checkKeyPermissions(path: string): Promise<void> {
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new CaError('WEFT_ERR_CA_KEY_PERMISSIONS', `${path} is accessible to group or others (mode ${mode.toString(8).padStart(4, '0')}); the CA key must be private to its owner: chmod 600 ${path}`);
  }
}

async function readTexts(dir: string): Promise<CaFileTexts> {
  const texts: Partial<Record<CaFile, string>> = {};
  for (const file of FILE_KEYS) {
    const path = join(dir, CA_FILES[file]);
    try {
      texts[file] = await readFile(path, 'utf8');
    } catch (error) {
      throw new CaError('WEFT_ERR_CA_FILES', `${path}: cannot be read (${errorCode(error) ?? 'error'})`);
    }
  }
  return texts as CaFileTexts;
}

/** Loads the CA in `dir`; never creates anything (`weft ca issue`). */
export async function loadCa(dir: string, settings: CaSettings = {}): Promise<CertificateAuthority> {
  const lifetimes = resolveLifetimes(settings);
  const present = await presentFiles(dir);
  if (present.size === 0) {
    throw new CaError('WEFT_ERR_CA_FILES', `${dir} holds no CA files (${names(FILE_KEYS)}); create a root with "weft ca init --dir ${dir}" or put an operator CA there`);
  }
  const missing = FILE_KEYS.filter((file) => !present.has(file));
  if (missing.length > 0) {
    throw new CaError('WEFT_ERR_CA_FILES', `${dir} holds only some of the CA files: missing ${names(missing)}. Provide all four (nothing is generated over a partial set)`);
  }
  await checkKeyPermissions(join(dir, CA_FILES.caKey));
  let material: ReturnType<typeof checkCaMaterial>;
  try {
    material = checkCaMaterial(await readTexts(dir));
  } catch (error) {
    // File names in material errors are relative; name the directory too.
    if (error instanceof CaError && error.code === 'WEFT_ERR_CA_FILES') throw new CaError(error.code, `${dir.replace(/\/+$/, '')}/${error.message}`);
    throw error;
  }
  const trustDomain = resolveTrustDomain(settings.trustDomain, material.certificateTrustDomain);
  if (material.certificateTrustDomain !== undefined && trustDomain !== material.certificateTrustDomain) {
    throw new CaError('WEFT_ERR_CA_FILES', `${join(dir, CA_FILES.caCert)} belongs to trust domain "${material.certificateTrustDomain}" (its URI SAN), but "${trustDomain}" is configured`);
  }
  return new CertificateAuthority({ trustDomain, defaultTtlSeconds: lifetimes.defaultTtlSeconds, maxTtlSeconds: lifetimes.maxTtlSeconds, material });
}

/** Creates a self-signed root in `dir` (`weft ca init`); refuses when any CA file already exists. */
export async function createRootCa(dir: string, settings: CaSettings = {}): Promise<void> {
  const { rootTtlDays } = resolveLifetimes(settings);
  const trustDomain = resolveTrustDomain(settings.trustDomain, DEFAULT_TRUST_DOMAIN);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const present = await presentFiles(dir);
  if (present.size > 0) throw new CaError('WEFT_ERR_CA_FILES', `${dir} already holds CA files (${names(present)}); refusing to overwrite them`);
  const root = await generateRoot(trustDomain, rootTtlDays);
  // 'wx': created here or not at all (a concurrent creator loses instead of overwriting). The key
  // is created with mode 0600 rather than chmodded afterwards, so it is never readable by others.
  await writeFile(join(dir, CA_FILES.caKey), root.keyPem, { mode: 0o600, flag: 'wx' });
  for (const file of ['caCert', 'rootCert', 'certChain'] as const) {
    await writeFile(join(dir, CA_FILES[file]), root.certificatePem, { mode: 0o644, flag: 'wx' });
  }
}

/**
 * Loads Istio's cacerts layout from `dir`, or, when `dir` holds none of its files, creates a
 * self-signed root there first (ca-cert.pem = root-cert.pem = cert-chain.pem, ca-key.pem 0600).
 */
export async function loadOrCreateCa(dir: string, settings: CaSettings = {}): Promise<CertificateAuthority> {
  // Not safe against two processes creating at once: the loser's load fails (exclusive writes
  // mean nothing is overwritten) and succeeds on its next start.
  if ((await presentFiles(dir)).size === 0) await createRootCa(dir, settings);
  return loadCa(dir, settings);
}
