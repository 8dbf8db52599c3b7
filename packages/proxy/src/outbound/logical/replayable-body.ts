// A request body that can be sent more than once (retries, mirroring) — held in memory only
// up to a cap. A larger body streams once, as it came, and is not replayed.
import { Readable } from 'node:stream';

/** Bodies up to this size are buffered so a retry or a mirror can send them again. */
export const DEFAULT_BODY_BUFFER_CAP = 64 * 1024;

export interface ReplayableBody {
  /** Whether `stream()` may be called more than once. */
  readonly replayable: boolean;
  /** A fresh stream of the whole body, or null for a request without one. */
  stream(): Readable | null;
}

const EMPTY: ReplayableBody = { replayable: true, stream: () => null };

export async function bufferBody(body: Readable | null, declaredLength: string | string[] | undefined, cap: number = DEFAULT_BODY_BUFFER_CAP): Promise<ReplayableBody> {
  if (!body) return EMPTY;
  if (typeof declaredLength === 'string' && Number(declaredLength) > cap) return once(body);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.length;
    if (size > cap) {
      // Too large after all (chunked): send what we have, then the rest, once.
      return once(Readable.from(joinStreams(chunks, body)));
    }
  }
  const whole = Buffer.concat(chunks);
  return { replayable: true, stream: () => Readable.from(whole.length === 0 ? [] : [whole]) };
}

function once(body: Readable): ReplayableBody {
  let used = false;
  return {
    replayable: false,
    stream: () => {
      if (used) throw new Error('a body larger than the buffer cap can be sent only once');
      used = true;
      return body;
    },
  };
}

async function* joinStreams(head: Buffer[], rest: Readable): AsyncGenerator<Buffer> {
  yield* head;
  for await (const chunk of rest) yield chunk as Buffer;
}
