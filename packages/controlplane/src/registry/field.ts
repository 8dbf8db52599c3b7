// A cursor over one untrusted document value that knows its path, so every rejection names
// the exact field ("spec.http[0].route[1].weight: ..."). Validators read documents only
// through this, and produce typed, frozen model objects.
import { linearRegExpProblem } from '@weft/runtime';

export type FieldPath = readonly (string | number)[];

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out === '' ? '(document)' : out;
}

/** A field failed validation. `path` locates it inside its document. */
export class FieldError extends Error {
  readonly path: FieldPath;
  readonly problem: string;
  constructor(path: FieldPath, problem: string) {
    super(`${formatPath(path)}: ${problem}`);
    this.name = 'FieldError';
    this.path = path;
    this.problem = problem;
  }
}

/** An untrusted string for a message: escaped (no control characters reach a log line) and bounded. */
export function quote(value: string, maxLength = 60): string {
  return JSON.stringify(value.length > maxLength ? `${value.slice(0, maxLength)}…` : value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return quote(value, 40);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** The longest delay a Node.js timer honours (longer ones fire after 1 ms), about 24.8 days. */
export const MAX_DURATION_MS = 2_147_483_647;

export class Field {
  readonly value: unknown;
  readonly path: FieldPath;

  constructor(value: unknown, path: FieldPath = []) {
    this.value = value;
    this.path = path;
  }

  fail(problem: string): never {
    throw new FieldError(this.path, problem);
  }

  get present(): boolean {
    return this.value !== undefined && this.value !== null;
  }

  /** The child field `name` of a mapping (absent children read as undefined). */
  get(name: string): Field {
    const record = this.present ? (this.mapping()) : {};
    return new Field(record[name], [...this.path, name]);
  }

  /** Asserts a mapping whose keys are all in `allowed`, so a misspelt field is an error. */
  object(allowed: readonly string[]): this {
    const record = this.mapping();
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) {
        throw new FieldError([...this.path, key], `unknown field (allowed here: ${allowed.join(', ')})`);
      }
    }
    return this;
  }

  /** Exactly one of `keys` is set; returns it. */
  oneOf<K extends string>(keys: readonly K[]): K {
    const set = keys.filter((key) => this.get(key).present);
    if (set.length !== 1) this.fail(`set exactly one of ${keys.join(', ')}${set.length ? ` (got ${set.join(', ')})` : ''}`);
    return set[0] as K;
  }

  private mapping(): Record<string, unknown> {
    const value = this.value;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(`expected a mapping, got ${describe(value)}`);
    }
    return value as Record<string, unknown>;
  }

  string(): string {
    if (typeof this.value !== 'string') this.fail(this.present ? `expected a string, got ${describe(this.value)}` : 'required');
    if (this.value === '') this.fail('must not be empty');
    return this.value;
  }

  optionalString(): string | undefined {
    return this.present ? this.string() : undefined;
  }

  /** A lower-case RFC 1123 label, as Kubernetes names are. */
  dnsLabel(): string {
    const value = this.string();
    if (!DNS_LABEL.test(value)) this.fail(`${quote(value)} is not a valid name (lower-case letters, digits and '-', at most 63)`);
    return value;
  }

  /** A host name as a service is named: lower-case RFC 1123 labels joined by dots, at most 253 characters. */
  hostname(): string {
    const value = this.string();
    if (value.length > 253 || !value.split('.').every((label) => DNS_LABEL.test(label))) {
      this.fail(`${quote(value)} is not a valid host name (lower-case labels of letters, digits and '-', joined by '.')`);
    }
    return value;
  }

  integer(min: number, max: number): number {
    const value = this.value;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.fail(this.present ? `expected an integer, got ${describe(value)}` : 'required');
    }
    if (value < min || value > max) this.fail(`must be between ${min} and ${max}, got ${value}`);
    return value;
  }

  /** A number (decimals allowed) between `min` and `max`, such as a percentage. */
  number(min: number, max: number): number {
    const value = this.value;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.fail(this.present ? `expected a number, got ${describe(value)}` : 'required');
    }
    if (value < min || value > max) this.fail(`must be between ${min} and ${max}, got ${value}`);
    return value;
  }

  port(): number {
    return this.integer(1, 65535);
  }

  boolean(): boolean {
    if (typeof this.value !== 'boolean') this.fail(this.present ? `expected true or false, got ${describe(this.value)}` : 'required');
    return this.value;
  }

  /** One of `choices`, compared case-insensitively; returns the canonical spelling. */
  choice<T extends string>(choices: readonly T[]): T {
    const value = this.string();
    const found = choices.find((choice) => choice.toLowerCase() === value.toLowerCase());
    if (found === undefined) this.fail(`${quote(value)} is not one of ${choices.join(', ')}`);
    return found;
  }

  /** Istio-style duration ("150ms", "2s", "1.5s", "1m", "1h"), in whole milliseconds. */
  durationMs(): number {
    const value = this.string();
    const match = DURATION.exec(value);
    if (!match) this.fail(`${quote(value)} is not a duration (examples: 250ms, 2s, 1m)`);
    const ms = Math.round(Number(match[1]) * (DURATION_UNIT_MS[match[2] as string] as number));
    if (ms < 1) this.fail(`${quote(value)} is shorter than 1ms`);
    if (ms > MAX_DURATION_MS) this.fail(`${quote(value)} is longer than ${MAX_DURATION_MS}ms (about 24.8 days)`);
    return ms;
  }

  /** A regular expression that must compile (ECMAScript syntax) and match in linear time (RE2's subset). */
  regex(): string {
    const value = this.string();
    const problem = linearRegExpProblem(value);
    if (problem !== undefined) this.fail(`invalid regular expression: ${problem}`);
    return value;
  }

  list(): Field[] {
    if (!this.present) return [];
    if (!Array.isArray(this.value)) this.fail(`expected a list, got ${describe(this.value)}`);
    return this.value.map((item, index) => new Field(item, [...this.path, index]));
  }

  nonEmptyList(): Field[] {
    const items = this.list();
    if (items.length === 0) this.fail('must list at least one entry');
    return items;
  }

  /** Entries of a mapping, as fields. */
  entries(): [string, Field][] {
    if (!this.present) return [];
    return Object.keys(this.mapping()).map((key) => [key, this.get(key)]);
  }

  /** A mapping of string to string (labels, selectors). */
  stringMap(): Readonly<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const [key, field] of this.entries().sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const value = field.value;
      if (typeof value !== 'string') throw new FieldError(field.path, `expected a string value, got ${describe(value)}`);
      out[key] = value;
    }
    return Object.freeze(out);
  }
}
