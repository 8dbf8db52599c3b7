// A resource the proxy cannot apply. The whole response carrying it is rejected (NACK) with
// this message, and the proxy keeps its previous configuration.
export class InvalidResourceError extends Error {
  readonly resource: string;
  constructor(resource: string, problem: string) {
    super(`${resource}: ${problem}`);
    this.name = 'InvalidResourceError';
    this.resource = resource;
  }
}

/** Reads a proto enum value, refusing numbers this build does not know. */
export function enumName<T extends string>(names: Readonly<Record<number, T>>, value: number | null | undefined, what: string, resource: string): T {
  const name = names[value ?? 0];
  if (name === undefined) throw new InvalidResourceError(resource, `unknown ${what} ${value} (is this proxy older than its control plane?)`);
  return name;
}

export function checkPort(port: number | null | undefined, what: string, resource: string): number {
  if (!port || port < 1 || port > 65535) throw new InvalidResourceError(resource, `${what} ${port ?? 0} is not a port number`);
  return port;
}

/** The longest delay a Node.js timer honours; a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

/** Reads a duration in milliseconds that a timer can wait (0 = unset). */
export function timerMs(value: number | null | undefined, what: string, resource: string): number {
  const ms = value ?? 0;
  if (ms > MAX_TIMER_MS) throw new InvalidResourceError(resource, `${what} ${ms}ms is longer than a timer can wait (${MAX_TIMER_MS}ms)`);
  return ms;
}
