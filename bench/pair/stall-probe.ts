// The machine's own noise floor: a bare spin loop (no I/O, no allocation) that records every
// gap over 200 µs between two clock reads. Each gap is time the CPU was taken away (another
// task, an interrupt, the hypervisor); the latency percentiles cannot be cleaner than this.
// Run pinned to one CPU; prints one JSON object.
import { performance } from 'node:perf_hooks';

export interface StallCensus {
  readonly seconds: number;
  /** Gaps over 0.2 ms and over 1 ms, and the longest, in ms. */
  readonly over200us: number;
  readonly over1ms: number;
  readonly maxMs: number;
}

const seconds = Number(process.argv[2] ?? '2');
const end = performance.now() + seconds * 1000;
let last = performance.now();
let over200us = 0;
let over1ms = 0;
let maxMs = 0;
for (;;) {
  const now = performance.now();
  const gap = now - last;
  last = now;
  if (gap > 0.2) {
    over200us++;
    if (gap > 1) over1ms++;
    maxMs = Math.max(maxMs, gap);
  }
  if (now > end) break;
}
const census: StallCensus = { seconds, over200us, over1ms, maxMs };
process.stdout.write(`${JSON.stringify(census)}\n`);
