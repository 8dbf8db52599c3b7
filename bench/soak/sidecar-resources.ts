// What a sidecar holds, for leak hunting: resident memory and file descriptors from /proc, and
// the handles keeping its event loop alive from its own stats port (weft_process_active_resources).
import { formatHostPort, type HostPort } from '@weft/runtime';
import { openFileDescriptors, rssMegabytes } from '../pair/proc-stats.ts';

export interface SidecarResources {
  readonly rssMb: number;
  readonly fds: number;
  /** Sockets, servers, timers...: the sum of weft_process_active_resources over its types. */
  readonly handles: number;
}

async function activeHandles(stats: HostPort): Promise<number> {
  const response = await fetch(`http://${formatHostPort(stats)}/stats/prometheus`);
  const text = await response.text();
  return [...text.matchAll(/^weft_process_active_resources\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

export async function sidecarResources(pid: number, stats: HostPort): Promise<SidecarResources> {
  // The scrape's own connection is counted in every sample alike.
  const handles = await activeHandles(stats);
  return { rssMb: rssMegabytes(pid), fds: openFileDescriptors(pid), handles };
}
