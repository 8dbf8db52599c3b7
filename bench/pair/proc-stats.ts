// Memory and CPU of processes, read from /proc: VmRSS / VmHWM from status, utime + stime from
// stat (all threads), and children by parent pid (nginx workers are the master's children).
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
}

const CLOCK_TICKS = clockTicksPerSecond();

/** The fields of /proc/PID/stat after "(comm)", which may itself hold spaces or parentheses. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function statusKilobytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size in MB (NaN if the process is gone). */
export function rssMegabytes(pid: number): number {
  return statusKilobytes(pid, 'VmRSS') / 1024;
}

/** Peak resident set size in MB. */
export function peakRssMegabytes(pid: number): number {
  return statusKilobytes(pid, 'VmHWM') / 1024;
}

/** CPU time (user + system, all threads) in seconds. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  // After the comm field: state is field 3, so utime (14) and stime (15) are at 11 and 12.
  if (!fields) return Number.NaN;
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Pids whose parent is `pid`. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    // ppid is stat field 4: index 1 after the comm field.
    if (fields && Number(fields[1]) === pid) children.push(Number(entry));
  }
  return children;
}

/** The process's command line ("" if it is gone); nginx rewrites it to "nginx: worker process". */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '';
  }
}

/** Open file descriptors (NaN if the process is gone). */
export function openFileDescriptors(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}
