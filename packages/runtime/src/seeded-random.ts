// A seeded pseudo-random generator (mulberry32) for fuzz tests: a run is fixed by its seed, so a
// failure that prints the seed replays exactly.

export class SeededRandom {
  readonly seed: number;
  private state: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.state = this.seed;
  }

  /** A number in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [0, below). */
  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }
}

/**
 * The seed of a fuzz run: FUZZ_SEED from the environment (to replay a reported failure or to
 * explore new cases), else `fixed`, so the default run is the same every time.
 */
export function fuzzSeed(fixed: number): number {
  const given = process.env.FUZZ_SEED;
  if (given === undefined || given === '') return fixed;
  const seed = Number(given);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got "${given}"`);
  return seed;
}
