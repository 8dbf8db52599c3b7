// The CA kept in a Kubernetes Secret, in Istio's `cacerts` layout (ca-cert.pem, ca-key.pem,
// root-cert.pem, cert-chain.pem), so an operator can bring their own intermediate exactly as
// with Istio. With no Secret, the first replica to start creates a root and stores it; a
// replica that loses that race (409 AlreadyExists) loads the winner's. Files touch disk only in
// a private temporary directory (0700, key 0600) that is removed right after loading.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { CA_FILES, createRootCa, loadCa, type CaSettings, type CertificateAuthority } from '@weft/ca';
import type { Logger } from 'pino';
import { statusCode } from './api-errors.ts';

const FILE_NAMES = Object.values(CA_FILES);

async function withPrivateDirectory<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'weft-ca-')); // mode 0700
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function loadFromSecret(secret: V1Secret, settings: CaSettings): Promise<CertificateAuthority> {
  const data = secret.data ?? {};
  const missing = FILE_NAMES.filter((name) => !data[name]);
  if (missing.length > 0) throw new Error(`Secret ${secret.metadata?.namespace ?? ''}/${secret.metadata?.name ?? ''} lacks ${missing.join(', ')} (expected the cacerts layout: ${FILE_NAMES.join(', ')})`);
  return withPrivateDirectory(async (dir) => {
    for (const name of FILE_NAMES) await writeFile(join(dir, name), Buffer.from(data[name] as string, 'base64'), { mode: 0o600 });
    return loadCa(dir, settings);
  });
}

export async function loadOrCreateCaSecret(options: { kubeConfig: KubeConfig; namespace: string; name: string; settings: CaSettings; log: Logger }): Promise<CertificateAuthority> {
  const { namespace, name, settings, log } = options;
  const api = options.kubeConfig.makeApiClient(CoreV1Api);
  try {
    return await loadFromSecret(await api.readNamespacedSecret({ name, namespace }), settings);
  } catch (error) {
    if (statusCode(error) !== 404) throw error;
  }
  const data = await withPrivateDirectory(async (dir) => {
    await createRootCa(dir, settings);
    return Object.fromEntries(await Promise.all(FILE_NAMES.map(async (file) => [file, (await readFile(join(dir, file))).toString('base64')] as const)));
  });
  try {
    const created = await api.createNamespacedSecret({ namespace, body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'weft' } }, data } });
    log.info({ secret: `${namespace}/${name}` }, 'created a new root CA and stored it in a Secret');
    return await loadFromSecret(created, settings);
  } catch (error) {
    if (statusCode(error) !== 409) throw error;
    log.info({ secret: `${namespace}/${name}` }, 'another replica created the CA first; using it');
    return loadFromSecret(await api.readNamespacedSecret({ name, namespace }), settings);
  }
}
