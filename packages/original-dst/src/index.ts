// Where a connection was going before iptables redirected it to us (REDIRECT in the nat table):
// the kernel keeps it in conntrack and hands it out through getsockopt(SO_ORIGINAL_DST), which
// Node cannot call, hence a ten-line N-API addon (built by `npm ci`, see ../binding.gyp).
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

export interface OriginalDestination {
  readonly address: string;
  readonly port: number;
}

interface Addon {
  originalDestination(fd: number, ipv6: boolean): [string, number] | undefined;
}

// By package name (a self-reference), so the sidecar's bundle, which lives elsewhere, finds it too.
const addon = createRequire(import.meta.url)('@weft/original-dst/addon') as Addon;

/** The socket's file descriptor; libuv exposes it on the handle of a TCP socket. */
function fdOf(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/**
 * The destination `socket` (an accepted TCP connection) had before it was redirected; for a
 * connection that was not redirected, the socket's own local address. Undefined when the kernel
 * cannot say. Read it in the 'connection' handler, while the descriptor is certainly open.
 */
export function originalDestination(socket: Socket): OriginalDestination | undefined {
  const fd = fdOf(socket);
  if (fd === undefined) return undefined;
  // Dual-stack listeners see IPv4 peers as ::ffff:a.b.c.d; conntrack holds those as IPv4.
  const ipv6 = socket.localFamily === 'IPv6' && !(socket.localAddress ?? '').startsWith('::ffff:');
  const result = addon.originalDestination(fd, ipv6);
  return result && { address: result[0], port: result[1] };
}
