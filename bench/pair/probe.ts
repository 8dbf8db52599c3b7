// Readiness: GET until a path answers 200, with a deadline, before anything is measured.
import { request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * One GET on a fresh connection: 200, or what went wrong — the status with its Weft response
 * flags and the start of the body ("503 NCFG weft: ..."), or the error's message.
 */
export function probe(port: number, hostHeader: string): Promise<number | string> {
  return new Promise((resolve) => {
    const outgoing = request({ host: '127.0.0.1', port, path: '/', headers: { host: hostHeader }, agent: false, timeout: 2000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        if (body.length < 200) body += chunk.toString('latin1');
      });
      response.once('end', () => {
        const status = response.statusCode ?? 0;
        const flags = response.headers['weft-response-flags'];
        resolve(status === 200 ? 200 : `${status}${typeof flags === 'string' ? ` ${flags}` : ''} ${body.slice(0, 200).trim()}`);
      });
      response.once('error', (error) => resolve(error.message));
    });
    outgoing.once('timeout', () => outgoing.destroy(new Error('timed out')));
    outgoing.once('error', (error) => resolve(error.message));
    outgoing.end();
  });
}

/** `failed` is checked between attempts: a reason there (say, the server exited) ends the wait. */
export async function waitFor200(what: string, port: number, hostHeader: string, timeoutMs: number, failed?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: number | string = 'no attempt';
  while (Date.now() < deadline) {
    const reason = failed?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    last = await probe(port, hostHeader);
    if (last === 200) return;
    await sleep(50);
  }
  throw new Error(`${what}: no 200 from 127.0.0.1:${port} (Host ${hostHeader}) within ${timeoutMs} ms; last: ${last}`);
}

/** Until 127.0.0.1:`port` accepts a TCP connection (a TLS port answers no plaintext GET). */
export async function waitForPort(what: string, port: number, timeoutMs: number, failed?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const reason = failed?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`${what}: 127.0.0.1:${port} accepted no connection within ${timeoutMs} ms`);
}
