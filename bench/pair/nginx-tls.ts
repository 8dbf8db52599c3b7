// Certificates for the nginx pair's mutual TLS hop, made with openssl: a CA, a server
// certificate for the upstream name nginx verifies ("next_hop"), and a client certificate.
// ECDSA P-256, as Weft's own CA issues.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface NginxTls {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
}

/** The host name the client nginx connects to and verifies. */
export const UPSTREAM_NAME = 'next_hop';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export async function makeNginxTls(dir: string): Promise<NginxTls> {
  await mkdir(dir, { recursive: true });
  const file = (name: string): string => join(dir, name);
  const key = (name: string): void => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file(name)]);
  key('ca-key.pem');
  openssl(['req', '-x509', '-new', '-key', file('ca-key.pem'), '-subj', '/CN=bench nginx CA', '-days', '2', '-out', file('ca.pem')]);
  for (const [name, extensions] of [
    ['server', `subjectAltName=DNS:${UPSTREAM_NAME}\nextendedKeyUsage=serverAuth\n`],
    ['client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    key(`${name}-key.pem`);
    openssl(['req', '-new', '-key', file(`${name}-key.pem`), '-subj', `/CN=bench ${name}`, '-out', file(`${name}.csr`)]);
    await writeFile(file(`${name}.ext`), extensions);
    openssl(['x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca-key.pem'), '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`)]);
  }
  // nginx workers run as nobody and read these: throwaway keys of a benchmark's temporary directory.
  await chmod(dir, 0o755);
  for (const name of ['ca.pem', 'server.pem', 'server-key.pem', 'client.pem', 'client-key.pem']) await chmod(file(name), 0o644);
  return { caCert: file('ca.pem'), serverCert: file('server.pem'), serverKey: file('server-key.pem'), clientCert: file('client.pem'), clientKey: file('client-key.pem') };
}
