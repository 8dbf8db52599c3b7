// Traffic mirroring (Istio's mirror): a share of requests is copied to another cluster with
// "-shadow" appended to the host. The copy is fire-and-forget — its response is drained and
// ignored, its failures are only counted — and it never delays or fails the real request: the
// real request streams at once, and the copy leaves once the body has ended. Requests whose
// body is too large to keep are not mirrored.
import type { MirrorConfig } from '../../config/resources/route-policies.ts';
import { newContext, type Handler, type Layer } from '../../http/handler.ts';
import { replayableBody } from './replayable-body.ts';

/** A mirrored copy gives up after this long, so slow shadows cannot pile up copies. */
const MIRROR_TIMEOUT_MS = 10_000;

export interface MirrorStats {
  sent: number;
  failed: number;
  skipped: number;
}

/** "orders:8080" -> "orders-shadow:8080" */
export function shadowAuthority(authority: string): string {
  const bracket = authority.lastIndexOf(']');
  const colon = authority.lastIndexOf(':');
  return colon > bracket ? `${authority.slice(0, colon)}-shadow${authority.slice(colon)}` : `${authority}-shadow`;
}

export function mirrorLayer(mirror: MirrorConfig, dispatch: Handler, stats: MirrorStats, random: () => number = Math.random): Layer {
  return (next) => async (request, context) => {
    if (!(random() * 100 < mirror.percentage)) return next(request, context);
    const body = replayableBody(request.body, request.headers['content-length']);
    void body.settled.then(() => {
      const copy = body.replay();
      if (copy === undefined) {
        stats.skipped++;
        return;
      }
      const copyContext = newContext('outbound');
      copyContext.clusterName = mirror.cluster;
      stats.sent++;
      dispatch({ ...request, authority: shadowAuthority(request.authority), body: copy, signal: AbortSignal.timeout(MIRROR_TIMEOUT_MS) }, copyContext).then(
        (response) => response.body?.resume(),
        () => stats.failed++,
      );
    });
    return next({ ...request, body: body.first() }, context);
  };
}
