// A consistent-hash ring (Ketama-style): each endpoint owns a fixed number of points; a key
// belongs to the first point at or after its hash. Because an endpoint's points do not depend
// on how many endpoints there are, adding one of N moves about 1/N of the keys — all of them to
// the new endpoint — and removing one moves only its own keys.
import { createHash } from 'node:crypto';

/** 32-bit FNV-1a with MurmurHash3's finaliser: cheap per request, and similar keys land far apart. */
export function keyHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Ring points come from SHA-256 (once per configuration change), so they spread evenly. */
function pointHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

export class HashRing<T> {
  private readonly points: Uint32Array;
  private readonly owners: T[];

  /** `pointsPerMember` is fixed per member; see pointsPerEndpoint. */
  constructor(members: readonly T[], name: (member: T) => string, pointsPerMember: number) {
    const perMember = Math.max(1, pointsPerMember);
    const entries: { point: number; owner: T }[] = [];
    for (const member of members) {
      const key = name(member);
      for (let i = 0; i < perMember; i++) entries.push({ point: pointHash(`${key}_${i}`), owner: member });
    }
    entries.sort((a, b) => a.point - b.point);
    this.points = Uint32Array.from(entries.map((entry) => entry.point));
    this.owners = entries.map((entry) => entry.owner);
  }

  /** The owner of `key`, walking the ring past owners that are not `usable`. */
  lookup(key: string, usable: (owner: T) => boolean): T | undefined {
    const count = this.points.length;
    if (count === 0) return undefined;
    const hash = keyHash(key);
    let low = 0;
    let high = count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.points[middle] as number) < hash) low = middle + 1;
      else high = middle;
    }
    for (let step = 0; step < count; step++) {
      const owner = this.owners[(low + step) % count] as T;
      if (usable(owner)) return owner;
    }
    return undefined;
  }
}

/**
 * Points per endpoint for a minimum ring size: a quarter of it, so the ring reaches the minimum
 * from four endpoints on (1024 -> 256 points each, about ±6% balance), whatever the count.
 */
export function pointsPerEndpoint(minimumRingSize: number): number {
  return Math.max(16, Math.ceil(minimumRingSize / 4));
}
