// A request body that can be sent again (retries, mirroring) while it streams: the first
// attempt gets it as it arrives — a streaming gRPC call is not held up — and the bytes are kept
// on the side up to a cap. Once the body has ended within the cap it can be replayed; a larger
// (or unfinished) body cannot.
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** Bodies up to this size are kept so a retry or a mirror can send them again. */
export const DEFAULT_BODY_BUFFER_CAP = 64 * 1024;

export interface ReplayableBody {
  /** The body for the first attempt (null for a request without one). Call once. */
  first(): Readable | null;
  /** A fresh copy of the whole body, when it has ended within the cap; undefined otherwise. */
  replay(): Readable | null | undefined;
  /** Resolves when the body has been read to its end (or failed, or outgrew the cap). */
  readonly settled: Promise<void>;
}

/** How long another attempt waits for a body still arriving before giving up on replaying it. */
const BODY_GRACE_MS = 100;

/**
 * The body again, for another attempt: at once when it has ended within the cap, else once it
 * ends within a short grace (an upstream can answer before the caller has finished sending).
 * undefined when it cannot be replayed, or the caller left.
 */
export async function replayWithinGrace(body: ReplayableBody, signal: AbortSignal): Promise<Readable | null | undefined> {
  if (body.replay() === undefined) await Promise.race([body.settled, sleep(BODY_GRACE_MS, undefined, { signal }).catch(() => undefined)]);
  return signal.aborted ? undefined : body.replay();
}

const EMPTY: ReplayableBody = { first: () => null, replay: () => null, settled: Promise.resolve() };

/**
 * The ReplayableBody each stream handed out comes from. The layers that replay (mirror, retries,
 * the cluster's resend of unprocessed requests) nest: an inner one reuses the outer's copy instead
 * of buffering the same bytes again.
 */
const sources = new WeakMap<Readable, ReplayableBody>();

function handedOut(stream: Readable, from: ReplayableBody): Readable {
  sources.set(stream, from);
  return stream;
}

export function replayableBody(body: Readable | null, declaredLength: string | string[] | undefined, cap: number = DEFAULT_BODY_BUFFER_CAP): ReplayableBody {
  if (!body) return EMPTY;
  const outer = sources.get(body);
  if (outer) return { first: () => body, replay: () => outer.replay(), settled: outer.settled };
  const tooLarge = typeof declaredLength === 'string' && Number(declaredLength) > cap;
  const chunks: Buffer[] = [];
  let size = 0;
  let kept = !tooLarge;
  let ended = false;
  const pass = new PassThrough();
  let settle: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  body.on('data', (chunk: Buffer) => {
    if (kept) {
      size += chunk.length;
      if (size > cap) {
        kept = false;
        chunks.length = 0;
        settle();
      } else {
        chunks.push(chunk);
      }
    }
    if (!pass.write(chunk)) body.pause();
  });
  pass.on('drain', () => body.resume());
  body.once('end', () => {
    ended = true;
    pass.end();
    settle();
  });
  body.once('error', (error) => {
    pass.destroy(error);
    settle();
  });
  // The attempt reading `pass` learns of a failed body itself; one that already finished (or
  // never started) has no listener left, and the caller's abort must not crash the process.
  pass.on('error', () => undefined);
  // The caller may leave the first attempt unread (it failed before reading): drain it so the
  // source still reaches its end and can be replayed.
  pass.once('close', () => body.resume());
  const replayable: ReplayableBody = {
    first: () => handedOut(pass, replayable),
    replay: () => (kept && ended ? handedOut(Readable.from(chunks.length > 0 ? [Buffer.concat(chunks)] : []), replayable) : undefined),
    settled,
  };
  return replayable;
}
