// "host:port" flags and values. IPv6 hosts are bracketed: "[::1]:15010".
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const HOST_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/;

export function parseHostPort(value: string, what: string): HostPort {
  const match = HOST_PORT.exec(value.trim());
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new Error(`${what}: "${value}" is not host:port (for example 127.0.0.1:15010)`);
  return { host: (match[1] ?? match[2]) as string, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
