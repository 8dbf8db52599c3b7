// Kubernetes resource quantities ("50m", "0.5", "64Mi", "1e3"), checked before they go into a
// pod: the API server would refuse a pod with a malformed one, and a refused pod is an outage
// the operator did not ask for. The value is only needed to compare a request with its limit,
// so a float is precise enough.

// The grammar of k8s.io/apimachinery/pkg/api/resource (without a sign: resources are never
// negative): a decimal number, then a binary-SI, decimal-SI or exponent suffix.
const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const MULTIPLIERS: Readonly<Record<string, number>> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export interface Quantity {
  /** As written: it goes into the pod unchanged. */
  readonly text: string;
  /** In base units (cores, bytes). */
  readonly value: number;
}

/** Parses a quantity; undefined when `text` is not one, or is zero (no proxy runs on nothing). */
export function parseQuantity(text: string): Quantity | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const suffix = match[2] ?? '';
  const multiplier = /^[eE]/.test(suffix) ? 10 ** Number(suffix.slice(1)) : (MULTIPLIERS[suffix] as number);
  const value = Number(match[1]) * multiplier;
  if (!(value > 0) || !Number.isFinite(value)) return undefined;
  return { text, value };
}
