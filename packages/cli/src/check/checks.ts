// The checks of `weft check`, as pure functions of what was observed from the control plane's
// debug endpoint: each gives one line (✔ pass, ‼ warn, × fail) and, when not passing, the
// offenders and a hint that says what to do. Times are judged on the control plane's clock.
import type { CaStatus } from '@weft/controlplane';
import { formatDuration } from '../ca/ttl.ts';
import type { Syncz } from '../status/controlplane-debug.ts';
import { describeProblem, shortVersion, syncProblems } from '../status/sync-status.ts';

export type Outcome = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  readonly name: string;
  readonly outcome: Outcome;
  /** Shown after the name, e.g. "(12 ms)". */
  readonly detail?: string;
  /** One line per offender. */
  readonly problems?: readonly string[];
  readonly hint?: string;
  /** A failure that may clear by itself within moments (a push in flight, a sync in progress). */
  readonly retryable?: boolean;
}

export type Observation =
  | { readonly reachable: false; readonly controlPlane: string; readonly error: string }
  | {
      readonly reachable: true;
      readonly controlPlane: string;
      readonly readyStatus: number;
      readonly syncz: Syncz;
      /** Local clock just before and after /debug/syncz was fetched (ms since the epoch). */
      readonly localBefore: number;
      readonly localAfter: number;
      /** undefined: the control plane runs without a CA. */
      readonly ca: CaStatus | undefined;
    };

export interface CheckOptions {
  /** Warn when the CA expires within this many milliseconds. */
  readonly caExpiryWarningMs: number;
  readonly maxClockSkewMs: number;
}

export const DEFAULT_MAX_CLOCK_SKEW_MS = 5000;
const DAY_MS = 86_400_000;

const PORT_FORWARD = 'kubectl -n weft-system port-forward deploy/weft-controlplane 15014';

export function runChecks(observation: Observation, options: CheckOptions): CheckResult[] {
  if (!observation.reachable) {
    return [
      {
        name: 'control plane reachable',
        outcome: 'fail',
        problems: [observation.error],
        hint: `start the control plane, or point --controlplane (env WEFT_CONTROLPLANE) at its debug port; in a cluster run: ${PORT_FORWARD}`,
      },
    ];
  }
  const { syncz, ca } = observation;
  const now = Date.parse(syncz.now);
  return [
    { name: 'control plane reachable', outcome: 'pass', detail: observation.controlPlane },
    controlPlaneReady(observation.readyStatus, observation.controlPlane),
    clockSkew(now - (observation.localBefore + observation.localAfter) / 2, options.maxClockSkewMs),
    caValid(ca, now, options.caExpiryWarningMs),
    ...(ca ? [trustBundleConsistent(syncz)] : []),
    proxiesSynced(syncz),
    ...(ca ? [proxyCertificates(syncz, ca, now)] : []),
  ];
}

function controlPlaneReady(status: number, controlPlane: string): CheckResult {
  if (status === 200) return { name: 'control plane ready', outcome: 'pass' };
  return {
    name: 'control plane ready',
    outcome: 'fail',
    problems: [`/ready answered ${status}: the first sync with its registry has not finished`],
    hint: `see the control plane's log and ${controlPlane}/debug/registry (a mesh file it refused, an API server it cannot list)`,
    retryable: true,
  };
}

function clockSkew(skewMs: number, maxMs: number): CheckResult {
  const name = `clock skew with the control plane under ${maxMs / 1000} s`;
  const detail = `${Math.round(skewMs)} ms`;
  if (Math.abs(skewMs) <= maxMs) return { name, outcome: 'pass', detail };
  return {
    name,
    outcome: 'fail',
    problems: [`the control plane's clock is ${formatDuration(skewMs)} ${skewMs > 0 ? 'ahead of' : 'behind'} this machine's`],
    hint: 'synchronise clocks with NTP (timedatectl set-ntp true, or chrony); certificates are only backdated by 60 s, and skewed clocks break expiry checks and traces',
  };
}

function caValid(ca: CaStatus | undefined, now: number, warningMs: number): CheckResult {
  const name = 'CA valid and not near expiry';
  if (!ca) {
    return { name, outcome: 'warn', problems: ['this control plane runs without a CA: proxies talk plaintext (development only)'], hint: 'give the control plane --ca-dir to issue workload certificates (docs/security.md)' };
  }
  const notAfter = Date.parse(ca.signingChainNotAfter);
  const root = ca.roots[0]?.subject ?? 'unknown root';
  const left = notAfter - now;
  const hint = 'rotate the CA before it expires: add the new root to the trust bundle first, then switch signing (docs/security.md, "Rotating the CA")';
  if (left <= 0) return { name, outcome: 'fail', problems: [`the CA (${root}) expired on ${ca.signingChainNotAfter}: no certificate can be issued`], hint };
  const detail = `${root}, until ${ca.signingChainNotAfter}, ${formatDuration(left)} left`;
  if (left < warningMs) return { name, outcome: 'warn', detail, problems: [`the CA expires in ${formatDuration(left)}, under the ${Math.round(warningMs / DAY_MS)}-day warning`], hint };
  return { name, outcome: 'pass', detail };
}

function trustBundleConsistent(syncz: Syncz): CheckResult {
  const name = 'trust bundle consistent';
  const holders = syncz.proxies.map((proxy) => ({ id: proxy.id, type: proxy.types.trustBundle }));
  const current = holders.find((holder) => holder.type?.current !== undefined)?.type?.current;
  const behind = holders.filter(({ type }) => type?.acked === undefined || type.acked !== type.current);
  if (behind.length === 0) return { name, outcome: 'pass', detail: holders.length === 0 ? 'no proxies connected' : `${holders.length} proxies hold version ${shortVersion(current)}` };
  return {
    name,
    outcome: 'fail',
    problems: behind.map(({ id, type }) => `${id} holds ${shortVersion(type?.acked)}, the control plane's is ${shortVersion(type?.current)}${type?.rejection ? ` (rejected: ${type.rejection.message})` : ''}`),
    hint: 'a proxy without the current roots cannot verify certificates signed by a new root: see weft proxy-status and that proxy\'s log',
    retryable: behind.every(({ type }) => type?.rejection === undefined),
  };
}

function proxiesSynced(syncz: Syncz): CheckResult {
  const name = 'every proxy synced';
  const problems = syncProblems(syncz.proxies);
  if (problems.length === 0) return { name, outcome: 'pass', detail: syncz.proxies.length === 0 ? 'no proxies connected' : `${syncz.proxies.length} proxies` };
  const nacked = problems.some((problem) => problem.state === 'NACKED');
  return {
    name,
    outcome: 'fail',
    problems: problems.map(describeProblem),
    hint: nacked
      ? 'a proxy rejected its configuration and keeps the version it had: fix what the reason names in the mesh resources (or upgrade a proxy older than its control plane); weft proxy-status shows every type'
      : "configuration was sent but not acknowledged: if this persists, the proxy is stuck or overloaded; see weft proxy-status and the proxy's log",
    retryable: !nacked,
  };
}

function proxyCertificates(syncz: Syncz, ca: CaStatus, now: number): CheckResult {
  const name = 'proxy certificates not near expiry';
  const byProxy = new Map(ca.certificates.map((record) => [record.proxy, record]));
  const unknown: string[] = [];
  const problems: string[] = [];
  let earliest = Infinity;
  for (const proxy of syncz.proxies) {
    const record = byProxy.get(proxy.id);
    if (!record) {
      unknown.push(proxy.id);
      continue;
    }
    const notAfter = Date.parse(record.notAfter);
    const lifetime = notAfter - Date.parse(record.notBefore);
    earliest = Math.min(earliest, notAfter - now);
    // Proxies renew between 40% and 60% of the lifetime; under a quarter left means renewal failed.
    if (notAfter <= now) problems.push(`${proxy.id}: certificate ${record.serialNumber} expired on ${record.notAfter}`);
    else if (notAfter - now < lifetime / 4) problems.push(`${proxy.id}: certificate ${record.serialNumber} expires in ${formatDuration(notAfter - now)} and was not renewed`);
  }
  if (problems.length > 0) {
    return {
      name,
      outcome: 'fail',
      problems,
      hint: `the proxy cannot renew its certificate: look for "certificate request failed" in its log and at the refusals on /debug/ca; an expired certificate ends its mTLS connections`,
    };
  }
  if (unknown.length > 0) {
    return {
      name,
      outcome: 'warn',
      problems: [`no record of the certificates of ${unknown.join(', ')}: issued before this control plane started, or by another replica`],
      hint: 'they are recorded at their next renewal; weft proxy-config PROXY secrets shows a proxy\'s certificate',
    };
  }
  return { name, outcome: 'pass', detail: syncz.proxies.length === 0 ? 'no proxies connected' : `${syncz.proxies.length} proxies, the first expires in ${formatDuration(earliest)}` };
}
