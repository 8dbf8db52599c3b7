// Head sampling, decided once where a trace enters the mesh and then carried in the trace
// headers: a caller's decision is always kept (sampled stays sampled, not sampled stays not
// sampled, so a trace is whole or absent); without one, PERCENT of new traces are sampled.
const PERCENT = /^(?:100(?:\.0+)?|[0-9]{1,2}(?:\.[0-9]+)?)$/;

/** "0".."100", decimals allowed ("0.5"); throws an error naming `what` for anything else. */
export function parsePercent(text: string, what: string): number {
  if (!PERCENT.test(text)) throw new Error(`${what} must be a percentage from 0 to 100, got "${text}"`);
  return Number(text);
}

export class Sampler {
  readonly percent: number;
  private readonly random: () => number;

  constructor(percent: number, random: () => number = Math.random) {
    if (!(percent >= 0 && percent <= 100)) throw new Error(`sampling percentage must be from 0 to 100, got ${percent}`);
    this.percent = percent;
    this.random = random;
  }

  /** The caller's decision when it made one, else a new one. */
  decide(callerDecision: boolean | undefined): boolean {
    return callerDecision ?? this.random() * 100 < this.percent;
  }
}
