// A tiny TCP program for capture tests, run inside a namespace:
//   probe.ts listen PORT LABEL   answers every connection with "LABEL <original destination>\n"
//   probe.ts connect HOST PORT   prints the first line it receives (or "error CODE") and exits
import { connect, createServer } from 'node:net';
import { originalDestination } from '@weft/original-dst';

const [mode, first, second] = process.argv.slice(2);

if (mode === 'listen') {
  const server = createServer((socket) => {
    const destination = originalDestination(socket);
    socket.end(`${second ?? ''} ${destination ? `${destination.address}:${destination.port}` : 'none'}\n`);
    socket.on('error', () => undefined);
  });
  server.listen(Number(first), '0.0.0.0', () => process.stdout.write(`${JSON.stringify({ msg: 'listening', listener: second, host: '0.0.0.0', port: Number(first) })}\n`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else if (mode === 'connect') {
  const socket = connect(Number(second), first ?? '');
  let received = '';
  socket.setTimeout(3000, () => {
    process.stdout.write('error ETIMEDOUT\n');
    socket.destroy();
  });
  socket.on('data', (chunk) => (received += chunk.toString()));
  socket.on('end', () => process.stdout.write(`${received.split('\n')[0] ?? ''}\n`));
  socket.on('error', (error: NodeJS.ErrnoException) => process.stdout.write(`error ${error.code ?? error.message}\n`));
} else {
  process.stderr.write('usage: probe.ts listen PORT LABEL | connect HOST PORT\n');
  process.exitCode = 2;
}
