// weft check: pre-flight and health checks against the control plane's debug endpoint — one
// line each (✔ pass, ‼ warning, × failure, with a hint), exit 1 on any failure. Needs no
// cluster credentials: in a cluster it reads the endpoint through a port-forward.
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parseDuration } from '@weft/runtime';
import { UsageError, type Output } from '../ca/subcommand.ts';
import { ControlPlaneDebug, CONTROLPLANE_FLAG_HELP } from '../status/controlplane-debug.ts';
import { UnreachableError } from '../status/http-json.ts';
import { DEFAULT_MAX_CLOCK_SKEW_MS, runChecks, type CheckResult, type Observation } from './checks.ts';

const USAGE = `usage: weft check [--controlplane URL] [--wait DURATION] [--ca-expiry-warning DURATION]

Checks the mesh: the control plane is reachable and ready, clocks agree with it, its CA is
valid and not near expiry, every proxy holds the current trust bundle and configuration (a
proxy that NACKed is named with its reason), and no proxy certificate is near expiry.
Exit status 0 when nothing failed (warnings allowed), 1 otherwise.

  ${CONTROLPLANE_FLAG_HELP}
  --wait D            how long failures that clear by themselves (a push in flight, the first
                      sync) are re-checked before they count; default 5s, 0 for none
  --ca-expiry-warning D
                      warn when the CA expires within D; default 30d`;

const MARK: Record<CheckResult['outcome'], string> = { pass: '✔', warn: '‼', fail: '×' };

async function observe(controlPlane: ControlPlaneDebug): Promise<Observation> {
  const origin = controlPlane.url.origin;
  let readyStatus: number;
  try {
    readyStatus = (await controlPlane.ready()).status;
  } catch (error) {
    if (error instanceof UnreachableError) return { reachable: false, controlPlane: origin, error: error.message };
    throw error;
  }
  const localBefore = Date.now();
  const syncz = await controlPlane.syncz();
  const localAfter = Date.now();
  return { reachable: true, controlPlane: origin, readyStatus, syncz, localBefore, localAfter, ca: await controlPlane.ca() };
}

export function renderResults(results: readonly CheckResult[]): string {
  const lines = results.flatMap((result) => [
    `${MARK[result.outcome]} ${result.name}${result.detail ? ` (${result.detail})` : ''}`,
    ...(result.outcome === 'pass' ? [] : [...(result.problems ?? []).map((problem) => `    ${problem}`), ...(result.hint ? [`    hint: ${result.hint}`] : [])]),
  ]);
  const failed = results.filter((result) => result.outcome === 'fail').length;
  const warned = results.filter((result) => result.outcome === 'warn').length;
  const summary = failed > 0 ? `× ${failed} check${failed === 1 ? '' : 's'} failed` : `✔ all checks passed${warned > 0 ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}`;
  const unreachable = results.length === 1 && failed === 1 ? ['(the other checks need the control plane)'] : [];
  return [...lines, ...unreachable, '', summary].join('\n');
}

/**
 * Runs the checks, and again every `pauseMs` while a failure that may clear by itself remains
 * and `waitMs` has not passed: a check right after a change should not fail on a push in flight.
 */
export async function checkUntilSettled(check: () => Promise<CheckResult[]>, waitMs: number, pauseMs = 250): Promise<CheckResult[]> {
  const deadline = Date.now() + waitMs;
  let results = await check();
  while (results.some((result) => result.outcome === 'fail' && result.retryable) && Date.now() < deadline) {
    await delay(pauseMs);
    results = await check();
  }
  return results;
}

function durationFlag(value: string, flag: string): number {
  if (value === '0') return 0;
  try {
    return parseDuration(value, flag) * 1000;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export const checkCommand = {
  summary: "check the mesh's health: control plane, CA, proxies in sync, certificates, clocks",
  usage: USAGE,
  async run(args: string[], stdout: Output = process.stdout): Promise<number> {
    const { values } = parseArgs({
      args,
      options: { controlplane: { type: 'string' }, wait: { type: 'string', default: '5s' }, 'ca-expiry-warning': { type: 'string', default: '30d' } },
    });
    const waitMs = durationFlag(values.wait, '--wait');
    const options = { caExpiryWarningMs: durationFlag(values['ca-expiry-warning'], '--ca-expiry-warning'), maxClockSkewMs: DEFAULT_MAX_CLOCK_SKEW_MS };
    const controlPlane = ControlPlaneDebug.fromFlag(values.controlplane);
    const results = await checkUntilSettled(async () => runChecks(await observe(controlPlane), options), waitMs);
    stdout.write(`${renderResults(results)}\n`);
    return results.some((result) => result.outcome === 'fail') ? 1 : 0;
  },
};
