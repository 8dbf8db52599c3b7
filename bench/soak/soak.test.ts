// `npm run soak` itself, kept working: a short, slow run of the real script (control plane, two
// sidecars with mTLS, the app, the open-loop generator), its report and JSON line checked.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { runProgram, type CliResult } from '../../e2e/loopback/helpers.ts';

const SOAK = fileURLToPath(new URL('./main.ts', import.meta.url));

interface SidecarSummary {
  readonly rssFirstMb: number;
  readonly rssSlopeMbPerMinute: number | null;
  readonly fdsBefore: number;
  readonly fdsAfter: number;
  readonly handlesBefore: number;
  readonly handlesAfter: number;
}

interface SoakSummary {
  readonly requests: number;
  readonly ok: number;
  readonly errors: Record<string, number>;
  readonly samples: number;
  readonly sidecars: Record<string, SidecarSummary>;
  readonly verdict: { readonly pass: boolean; readonly reasons: string[] };
}

const runSoak = (args: string[]): Promise<CliResult> => runProgram(SOAK, args);

test('npm run soak: 10 s at 50 req/s through the pair, every request answered, samples taken, the pair idle again afterwards', { timeout: 150_000 }, async () => {
  // A 10 s run cannot judge memory growth: the slope limit is lifted so the rest of the verdict shows.
  const run = await runSoak(['--duration', '10s', '--rate', '50', '--sample-interval', '2s', '--warmup', '2s', '--max-slope', '100000']);
  const line = run.stdout.split('\n').find((candidate) => candidate.startsWith('soak: {'));
  assert.ok(line, `no JSON line (exit ${run.code})\n${run.stdout}\n${run.stderr}`);
  const summary = JSON.parse(line.slice('soak: '.length)) as SoakSummary;
  assert.equal(summary.requests, 500);
  assert.equal(summary.ok, 500, JSON.stringify(summary.errors));
  assert.deepEqual(summary.errors, {});
  assert.ok(summary.samples >= 4, `${summary.samples} samples`);
  assert.deepEqual(Object.keys(summary.sidecars).sort(), ['client', 'server']);
  for (const [name, sidecar] of Object.entries(summary.sidecars)) {
    assert.ok(sidecar.rssFirstMb > 10, `${name} RSS ${sidecar.rssFirstMb} MB`);
    assert.equal(typeof sidecar.rssSlopeMbPerMinute, 'number', `${name}: a slope from the samples after the warm-up`);
    assert.ok(sidecar.fdsBefore > 0 && sidecar.handlesBefore > 0, `${name}: fds and handles read`);
  }
  assert.deepEqual(summary.verdict, { pass: true, reasons: [] });
  assert.equal(run.code, 0);
  assert.match(run.stdout, /\| sidecar \| RSS first MB \|/);
});

test('npm run soak refuses a malformed duration, naming the flag', async () => {
  const run = await runSoak(['--duration', 'ten minutes']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--duration must be a duration like 30s/);
});
