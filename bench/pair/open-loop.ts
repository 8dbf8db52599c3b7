// A true open-loop load generator, run as its own process (pinned to its own core): request k
// is due at t0 + k/rate whatever happened to earlier requests, and its latency is measured
// from that due time, so a slow response delays nothing and hides nothing (no coordinated
// omission). It spins on setImmediate, which keeps send times within microseconds of their
// schedule; the send lag it reports shows how close it came. Prints one JSON object.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { ConnectionPool, type Completion } from './open-loop-pool.ts';
import { distribution, type Distribution } from './stats.ts';

export interface OpenLoopResult {
  readonly rate: number;
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  /** Requests due in the measured window, and how many of them got a 2xx. */
  readonly measured: number;
  readonly ok: number;
  readonly errors: { readonly status: number; readonly connect: number; readonly reset: number; readonly protocol: number; readonly timeout: number };
  /** The non-2xx answers counted in errors.status, by status code. */
  readonly errorStatuses: Record<string, number>;
  /** Requests sent in all, warm-up included (for CPU per request). */
  readonly sentTotal: number;
  readonly latencyUs: Distribution;
  /** Send time minus due time, measured window only. */
  readonly sendLagUs: Distribution;
  readonly peakConnections: number;
  readonly connectionsOpened: number;
}

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    'host-header': { type: 'string' },
    path: { type: 'string', default: '/' },
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    'max-connections': { type: 'string', default: '256' },
    'initial-connections': { type: 'string', default: '8' },
    /** How long to wait for the last responses before counting them as timeouts. */
    drain: { type: 'string', default: '2' },
  },
});

function positive(name: string, text: string | undefined, allowZero = false): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw new Error(`--${name}: expected a positive number, got ${String(text)}`);
  return value;
}

const port = positive('port', values.port);
const rate = positive('rate', values.rate);
const durationSeconds = positive('duration', values.duration);
const warmupSeconds = positive('warmup', values.warmup, true);
const maxConnections = positive('max-connections', values['max-connections']);
const initialConnections = Math.min(maxConnections, positive('initial-connections', values['initial-connections'], true));
const drainMs = positive('drain', values.drain, true) * 1000;
const hostHeader = values['host-header'] ?? `${values.host}:${port}`;
const request = Buffer.from(`GET ${values.path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: weft-open-loop\r\n\r\n`, 'latin1');

const intervalMs = 1000 / rate;
const warmupCount = Math.round(warmupSeconds * rate);
const measuredCount = Math.round(durationSeconds * rate);
const total = warmupCount + measuredCount;

const latencies = new Float64Array(measuredCount);
const sendLags = new Float64Array(measuredCount);
let recorded = 0;
let completedMeasured = 0;
const errors = { status: 0, connect: 0, reset: 0, protocol: 0, timeout: 0 };
const errorStatuses: Record<string, number> = {};
let t0 = 0;
let measureFrom = 0;

function onComplete({ scheduled, sent, done, outcome }: Completion): void {
  if (scheduled < measureFrom) return;
  completedMeasured++;
  if (typeof outcome === 'number' && outcome >= 200 && outcome < 300) {
    latencies[recorded] = (done - scheduled) * 1000;
    sendLags[recorded] = (sent - scheduled) * 1000;
    recorded++;
  } else if (typeof outcome === 'number') {
    errors.status++;
    errorStatuses[outcome] = (errorStatuses[outcome] ?? 0) + 1;
  }
  else errors[outcome]++;
}

const pool = new ConnectionPool({ host: values.host, port, request, maxConnections, onComplete });
try {
  await pool.warm(initialConnections);
} catch (error) {
  process.stderr.write(`open-loop: cannot connect to ${values.host}:${port}: ${error instanceof Error ? error.message : String(error)}\n`);
  pool.close();
  process.exit(1);
}

let next = 0;
await new Promise<void>((resolve) => {
  t0 = performance.now();
  measureFrom = t0 + warmupCount * intervalMs - intervalMs / 2;
  // setImmediate rather than timers: it polls for I/O without sleeping, so each due time is
  // noticed within one loop turn (microseconds), and responses are read as they arrive.
  const spin = (): void => {
    const now = performance.now();
    while (next < total && t0 + next * intervalMs <= now) {
      pool.submit(t0 + next * intervalMs);
      next++;
    }
    if (next < total) setImmediate(spin);
    else resolve();
  };
  spin();
});

const drainDeadline = performance.now() + drainMs;
await new Promise<void>((resolve) => {
  const wait = (): void => {
    if (pool.outstanding === 0 || performance.now() > drainDeadline) resolve();
    else setImmediate(wait);
  };
  wait();
});
errors.timeout = measuredCount - completedMeasured;
pool.close();

const result: OpenLoopResult = {
  rate,
  durationSeconds,
  warmupSeconds,
  measured: measuredCount,
  ok: recorded,
  errors,
  errorStatuses,
  sentTotal: next,
  latencyUs: distribution(latencies.subarray(0, recorded)),
  sendLagUs: distribution(sendLags.subarray(0, recorded)),
  peakConnections: pool.peakConnections,
  connectionsOpened: pool.connectionsOpened,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
