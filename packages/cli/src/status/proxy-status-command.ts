// weft proxy-status: every proxy connected to the control plane with, per resource type,
// SYNCED / STALE / NACKED (reasons below the table), its version and how long it has been
// connected. Read from the control plane's /debug/syncz.
import { parseArgs } from 'node:util';
import { formatDuration } from '../ca/ttl.ts';
import type { Output } from '../ca/subcommand.ts';
import { ControlPlaneDebug, CONTROLPLANE_FLAG_HELP, type Syncz } from './controlplane-debug.ts';
import { describeProblem, RESOURCE_COLUMNS, syncProblems, typeSyncs } from './sync-status.ts';
import { renderTable } from './table.ts';

const USAGE = `usage: weft proxy-status [--controlplane URL] [--json]

Every proxy connected to the control plane and, per resource type, whether it holds what the
control plane means it to hold:
  SYNCED    it ACKed the current version
  STALE     a newer version was sent and not ACKed yet, or it holds an older one
  NACKED    it rejected the version last sent (the reason is printed below the table)
  NOT SENT  nothing of this type was sent yet

  ${CONTROLPLANE_FLAG_HELP}
  --json              one JSON object: the proxies with their states and versions`;

export function renderProxyStatus(syncz: Syncz): string {
  if (syncz.proxies.length === 0) return 'no proxies are connected to this control plane';
  const now = Date.parse(syncz.now);
  const rows = syncz.proxies.map((proxy) => {
    const syncs = typeSyncs(proxy);
    return [proxy.id, ...RESOURCE_COLUMNS.map(({ kind }) => syncs[kind].state), proxy.proxyVersion || '-', formatDuration(now - Date.parse(proxy.connectedAt))];
  });
  const table = renderTable(['PROXY', ...RESOURCE_COLUMNS.map(({ title }) => title), 'VERSION', 'CONNECTED'], rows);
  const rejections = syncProblems(syncz.proxies).filter((problem) => problem.state === 'NACKED');
  return rejections.length === 0 ? table : `${table}\n\n${rejections.map(describeProblem).join('\n')}`;
}

/** The proxies as /debug/syncz has them, each type with its state added. */
export function proxyStatusJson(syncz: Syncz): unknown {
  return { proxies: syncz.proxies.map((proxy) => ({ ...proxy, types: typeSyncs(proxy) })) };
}

export const proxyStatusCommand = {
  summary: 'each connected proxy: SYNCED, STALE or NACKED per resource type',
  usage: USAGE,
  async run(args: string[], stdout: Output = process.stdout): Promise<number> {
    const { values } = parseArgs({ args, options: { controlplane: { type: 'string' }, json: { type: 'boolean', default: false } } });
    const syncz = await ControlPlaneDebug.fromFlag(values.controlplane).syncz();
    stdout.write(`${values.json ? JSON.stringify(proxyStatusJson(syncz), null, 2) : renderProxyStatus(syncz)}\n`);
    return 0;
  },
};
