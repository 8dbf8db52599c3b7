#!/usr/bin/env node
// Joins two network namespaces through the file system: a Unix socket belongs to no network
// namespace, so a process in one namespace can reach a listener in another through it.
//   unix-relay.ts tcp-to-unix HOST:PORT PATH   listen on TCP, forward each connection to PATH
// (The test process, in the host's namespace, serves PATH and forwards to the Kubernetes API
// double on its loopback; see cluster.ts.)
import { connect, createServer } from 'node:net';
import { formatHostPort, parseHostPort } from '@weft/runtime';

const [mode, listen = '', path = ''] = process.argv.slice(2);
if (mode !== 'tcp-to-unix') {
  process.stderr.write('usage: unix-relay.ts tcp-to-unix HOST:PORT PATH\n');
  process.exit(2);
}
const address = parseHostPort(listen, 'HOST:PORT');
const server = createServer((socket) => {
  const upstream = connect(path);
  socket.pipe(upstream).pipe(socket);
  const close = (): void => {
    socket.destroy();
    upstream.destroy();
  };
  socket.on('error', close).on('close', close);
  upstream.on('error', close).on('close', close);
});
server.listen(address.port, address.host, () => process.stdout.write(`${JSON.stringify({ msg: 'listening', listener: 'relay', host: address.host, port: address.port, at: formatHostPort(address) })}\n`));
process.on('SIGTERM', () => process.exit(0));
