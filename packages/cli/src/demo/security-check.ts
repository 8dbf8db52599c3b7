// What the demo can show about its own security, measured rather than assumed: the identity
// each sidecar holds (from its admin endpoint), and whether a plaintext connection to a
// sidecar's inbound port is refused.
import { once } from 'node:events';
import { connect } from 'node:net';
import { request } from 'undici';
import { formatHostPort, type HostPort } from '@weft/runtime';

export interface SecuritySummary {
  readonly identities: Record<string, string | null>;
  readonly plaintextRefused: boolean;
}

async function identityOf(admin: HostPort): Promise<string | null> {
  const response = await request(`http://${formatHostPort(admin)}/config_dump`);
  const dump = (await response.body.json()) as { certificate: { spiffeId?: string } | null };
  return dump.certificate?.spiffeId ?? null;
}

/** Sends a plaintext request; true when the sidecar hangs up instead of answering. */
async function refusesPlaintext(inbound: HostPort): Promise<boolean> {
  const socket = connect(inbound.port, inbound.host);
  let answered = false;
  socket.on('data', () => (answered = true));
  socket.on('error', () => undefined);
  socket.once('connect', () => socket.write('GET / HTTP/1.1\r\nhost: demo\r\nconnection: close\r\n\r\n'));
  await once(socket, 'close');
  return !answered;
}

export async function checkSecurity(sidecars: readonly { readonly name: string; readonly admin: HostPort; readonly inbound: HostPort }[]): Promise<SecuritySummary> {
  const identities: Record<string, string | null> = {};
  for (const sidecar of sidecars) identities[sidecar.name] = await identityOf(sidecar.admin);
  const served = sidecars.filter((sidecar) => sidecar.name !== 'loadgen');
  const refusals = await Promise.all(served.map((sidecar) => refusesPlaintext(sidecar.inbound)));
  return { identities, plaintextRefused: refusals.every(Boolean) };
}
