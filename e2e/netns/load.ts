#!/usr/bin/env node
// An application for the netns scenarios, run inside a pod: it calls services by their plain
// URLs (names from /etc/hosts, ClusterIPs, no proxy settings — it knows nothing of sidecars) and
// prints one JSON summary of what happened, with counts.
//   load.ts http URL [--count N | --duration-ms D] [--concurrency C] [--header name:value]...
//   load.ts tcp HOST PORT [--count N]          each connection sends a line and expects it back
//   load.ts grpc HOST:PORT [--count N]         unary Echo calls (the e2e gRPC echo service)
// An HTTP run with --duration-ms also stops early, and still reports, on SIGTERM.
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { Agent, request } from 'undici';
// Only the one constant: the proxy's whole module graph would slow every load run's start.
import { RESPONSE_FLAGS_HEADER } from '../../packages/proxy/src/errors.ts';
import { ECHO_SERVICE } from '../loopback/grpc-echo-service.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    count: { type: 'string', default: '100' },
    'duration-ms': { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    header: { type: 'string', multiple: true, default: [] },
  },
});
const [mode, target = '', extra = ''] = positionals;
const count = Number(values.count);
const concurrency = Number(values.concurrency);

interface Summary {
  sent: number;
  ok: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  /** Which replica answered (the demo app's `workload`, the echo services' replica), by count. */
  by: Record<string, number>;
  /** Answers a proxy made itself, by status and response flag ("503 NCFG"): what a failure was. */
  proxyAnswers: Record<string, number>;
  /** Milliseconds from the first request to the first and the last failure, when any failed. */
  failuresAtMs?: { first: number; last: number };
}

const summary: Summary = { sent: 0, ok: 0, statuses: {}, errors: {}, by: {}, proxyAnswers: {} };
const startedAt = performance.now();
function failed(): void {
  const at = Math.round(performance.now() - startedAt);
  summary.failuresAtMs = { first: summary.failuresAtMs?.first ?? at, last: at };
}
const bump = (record: Record<string, number>, key: string): void => {
  record[key] = (record[key] ?? 0) + 1;
};

function errorCode(error: unknown): string {
  const record = error as { code?: unknown; cause?: { code?: unknown } };
  const code = record.cause?.code ?? record.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : (error as Error).message;
}

async function httpOnce(agent: Agent, headers: Record<string, string>): Promise<void> {
  summary.sent++;
  try {
    const response = await request(target, { dispatcher: agent, headers, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const text = await response.body.text();
    bump(summary.statuses, String(response.statusCode));
    const flags = response.headers[RESPONSE_FLAGS_HEADER];
    if (typeof flags === 'string') bump(summary.proxyAnswers, `${response.statusCode} ${flags}`);
    if (response.statusCode === 200) summary.ok++;
    else failed();
    try {
      const workload = (JSON.parse(text) as { workload?: unknown }).workload;
      if (typeof workload === 'string') bump(summary.by, workload);
    } catch {
      // a proxy's own answer (text)
    }
  } catch (error) {
    bump(summary.errors, errorCode(error));
    failed();
  }
}

async function http(): Promise<void> {
  const headers = Object.fromEntries(values.header.map((line) => [line.slice(0, line.indexOf(':')).trim(), line.slice(line.indexOf(':') + 1).trim()]));
  const agent = new Agent({ connections: concurrency });
  const deadline = values['duration-ms'] === undefined ? undefined : Date.now() + Number(values['duration-ms']);
  let stopped = false;
  process.once('SIGTERM', () => (stopped = true));
  let issued = 0;
  const more = (): boolean => !stopped && (deadline === undefined ? issued < count : Date.now() < deadline);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (more()) {
        issued++;
        await httpOnce(agent, headers);
      }
    }),
  );
  await agent.close();
}

function tcpOnce(index: number): Promise<void> {
  summary.sent++;
  const line = `ping ${index}\n`;
  return new Promise((resolve) => {
    const socket = connect({ host: target, port: Number(extra) });
    let received = '';
    let finished = false;
    const finish = (outcome: string | undefined): void => {
      if (finished) return;
      finished = true;
      socket.destroy();
      if (outcome === undefined) summary.ok++;
      else bump(summary.errors, outcome);
      resolve();
    };
    socket.setTimeout(5000, () => finish('ETIMEDOUT'));
    socket.on('connect', () => socket.write(line));
    socket.on('data', (chunk) => {
      received += chunk.toString();
      // A banner may come first (server-first services): the echo is what matters.
      if (received.includes(line)) finish(undefined);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
    socket.on('close', () => finish('closed without echo'));
  });
}

async function tcp(): Promise<void> {
  for (let index = 0; index < count; index++) await tcpOnce(index);
}

async function grpc(): Promise<void> {
  const client = new Client(target, credentials.createInsecure());
  const echo = ECHO_SERVICE.Echo as NonNullable<(typeof ECHO_SERVICE)['Echo']>;
  for (let index = 0; index < count; index++) {
    summary.sent++;
    await new Promise<void>((resolve) => {
      client.makeUnaryRequest(echo.path, echo.requestSerialize, echo.responseDeserialize, { message: `m${index}` }, { deadline: Date.now() + 10_000 }, (error: ServiceError | null, reply?: unknown) => {
        if (error) bump(summary.errors, `grpc ${error.code}`);
        else {
          summary.ok++;
          const replica = (reply as { replica?: unknown } | undefined)?.replica;
          if (typeof replica === 'string') bump(summary.by, replica);
        }
        resolve();
      });
    });
  }
  client.close();
}

const run = { http, tcp, grpc }[mode ?? ''];
if (!run) {
  process.stderr.write('usage: load.ts http URL | tcp HOST PORT | grpc HOST:PORT [options]\n');
  process.exit(2);
}
await run();
process.stdout.write(`${JSON.stringify({ msg: 'summary', ...summary })}\n`);
