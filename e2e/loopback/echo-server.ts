#!/usr/bin/env node
// Echo services for the tunnel tests: --mode tcp echoes bytes; --mode banner greets first, as
// server-first protocols do, then echoes; --mode websocket accepts a WebSocket upgrade and
// echoes text frames prefixed with its workload name.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { parseArgs } from 'node:util';
import { createLogger, logListening, parseHostPort, runMain, stopOnSignals } from '@weft/runtime';
import { acceptKey, readTextFrame, textFrame } from './websocket-frames.ts';

const log = createLogger('echo');

runMain(log, async () => {
  const { values } = parseArgs({ strict: false, options: { workload: { type: 'string', default: 'echo' }, mode: { type: 'string', default: 'tcp' }, listen: { type: 'string', default: '127.0.0.1:0' } } });
  const name = String(values.workload);
  let server: Server;
  if (values.mode === 'websocket') {
    const http = createHttpServer((_request, response) => response.writeHead(426).end('websocket only\n'));
    http.on('upgrade', (request, socket) => {
      const key = request.headers['sec-websocket-key'];
      if (typeof key !== 'string') {
        socket.destroy();
        return;
      }
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${acceptKey(key)}\r\n\r\n`);
      let pending: Buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        for (let frame = readTextFrame(pending); frame; frame = readTextFrame(pending)) {
          socket.write(textFrame(`${name}: ${frame.text}`, false));
          pending = frame.rest;
        }
      });
      socket.on('error', () => socket.destroy());
    });
    server = http;
  } else {
    // --mode banner: the server speaks first (as SMTP or MySQL do), then echoes.
    const banner = values.mode === 'banner';
    server = createTcpServer((socket) => {
      socket.on('error', () => socket.destroy());
      if (banner) socket.write(`220 ${name} ready\r\n`);
      socket.pipe(socket);
    });
  }
  const address = parseHostPort(String(values.listen), '--listen');
  await new Promise<void>((resolve) => server.listen(address.port, address.host, resolve));
  logListening(log, 'app', { host: address.host, port: (server.address() as AddressInfo).port });
  stopOnSignals(log, () => new Promise((resolve) => server.close(() => resolve())));
});
