// Hostile edits of mesh documents for fuzz tests: one random change somewhere in a document's
// value (a field deleted, a type changed, an extreme value, a duplicate, an unknown field), and
// random damage to YAML text (truncation, flipped bytes, broken indentation). Each mutation
// says what it did, so a failure names its case as well as its seed.
import type { SeededRandom } from '@weft/runtime';

export interface Mutated<T> {
  readonly value: T;
  readonly what: string;
}

type Path = readonly (string | number)[];

/** Values that have broken parsers before: extremes, NaN-ish text, control and bidi characters, regex bombs. */
const HOSTILE_VALUES: readonly unknown[] = [
  '', ' ', 'NaN', '-Infinity', '1e999', '0x10', '-1', 'null', 'true', '~',
  0, -1, 1.5, -0.5, 65536, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, Number.MAX_VALUE,
  true, false, null, [], {}, [[[]]], { '': '' },
  'ü名🙂', '\u0000', '\u202eevil', 'a\nb', 'UPPER', 'has space', '-leading', 'a.b.c.d.e', '../..', '*', '.*',
  '(', '[', '(a+)+$', '\\', '%00', '1000000h', '0.0000001ms', '99999999999999999999s',
  'x'.repeat(70), 'y'.repeat(20_000),
];

const UNKNOWN_KINDS = ['VirtualService', 'workload', 'WORKLOAD', 'Workloads', 'Service', ' Workload', ''];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function childrenOf(value: unknown): [string | number, unknown][] {
  if (Array.isArray(value)) return value.map((item, index) => [index, item]);
  if (isRecord(value)) return Object.entries(value);
  return [];
}

function pathsOf(value: unknown, path: Path = [], out: Path[] = []): Path[] {
  out.push(path);
  for (const [key, child] of childrenOf(value)) pathsOf(child, [...path, key], out);
  return out;
}

function at(root: unknown, path: Path): unknown {
  let value = root;
  for (const key of path) value = (value as Record<string | number, unknown>)[key];
  return value;
}

function nested(depth: number, random: SeededRandom): unknown {
  let value: unknown = 'deep';
  for (let i = 0; i < depth; i++) value = random.chance(0.5) ? [value] : { spec: value };
  return value;
}

/** A value of another type made from `value`: string↔number↔list↔mapping. */
function retyped(value: unknown, random: SeededRandom): unknown {
  switch (random.int(4)) {
    case 0: return typeof value === 'string' ? Number(value) || value.length : String(JSON.stringify(value) ?? 'undefined');
    case 1: return [value];
    case 2: return { value };
    default: return typeof value === 'number' ? -value : typeof value === 'string' ? `${value}${value}` : 0;
  }
}

function replacement(value: unknown, random: SeededRandom, key: string | number | undefined): Mutated<unknown> {
  const choice = random.int(10);
  if (choice < 5) {
    const hostile = random.pick(HOSTILE_VALUES);
    return { value: hostile, what: `replaced with ${JSON.stringify(hostile)?.slice(0, 30)}` };
  }
  if (choice < 8) return { value: retyped(value, random), what: 'retyped' };
  if (key === 'kind') {
    const kind = random.pick(UNKNOWN_KINDS);
    return { value: kind, what: `kind "${kind}"` };
  }
  const depth = 20 + random.int(400);
  return { value: nested(depth, random), what: `nested ${depth} deep` };
}

/** `root` with one random change, found by walking every field and list item. */
export function mutateValue<T>(root: T, random: SeededRandom): Mutated<T> {
  const copy = structuredClone(root) as unknown;
  const path = random.pick(pathsOf(copy));
  const where = path.join('.') || '(document)';
  const target = at(copy, path);
  const parent = path.length > 0 ? (at(copy, path.slice(0, -1)) as Record<string | number, unknown>) : undefined;
  const key = path.at(-1);
  const operation = random.int(10);
  if (parent !== undefined && key !== undefined && operation < 3) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
    return { value: copy as T, what: `${where}: deleted` };
  }
  if (parent !== undefined && key !== undefined && Array.isArray(parent) && operation < 5) {
    parent.push(structuredClone(target));
    return { value: copy as T, what: `${where}: duplicated` };
  }
  if (isRecord(target) && operation < 6) {
    target[random.pick(['weigth', 'extra', '__proto__', 'constructor', 'toString'])] = random.pick(HOSTILE_VALUES);
    return { value: copy as T, what: `${where}: unknown field added` };
  }
  const next = replacement(target, random, key);
  if (parent === undefined || key === undefined) return { value: next.value as T, what: `(document): ${next.what}` };
  parent[key] = next.value;
  return { value: copy as T, what: `${where}: ${next.what}` };
}

const YAML_PUNCTUATION = [':', '{', '}', '[', ']', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', '#', '-', '?', ',', '\t', '\n', '---\n', '<<: '];

/** `text` with random damage: truncated, bytes flipped or inserted, lines dropped, duplicated or re-indented. */
export function damageText(text: string, random: SeededRandom): Mutated<string> {
  const bytes = Buffer.from(text, 'utf8');
  const lines = text.split('\n');
  const line = random.int(lines.length);
  switch (random.int(7)) {
    case 0: {
      const end = random.int(bytes.length);
      return { value: bytes.subarray(0, end).toString('utf8'), what: `truncated at byte ${end}` };
    }
    case 1: {
      const flipped = Buffer.from(bytes);
      const count = 1 + random.int(4);
      for (let i = 0; i < count; i++) {
        const index = random.int(flipped.length);
        flipped[index] = (flipped[index] as number) ^ (1 << random.int(8));
      }
      return { value: flipped.toString('utf8'), what: `${count} bit(s) flipped` };
    }
    case 2: {
      const offset = random.int(text.length);
      const inserted = random.pick(YAML_PUNCTUATION);
      return { value: `${text.slice(0, offset)}${inserted}${text.slice(offset)}`, what: `${JSON.stringify(inserted)} inserted at ${offset}` };
    }
    case 3:
      lines.splice(line, 1);
      return { value: lines.join('\n'), what: `line ${line + 1} deleted` };
    case 4:
      lines.splice(line, 0, lines[line] as string);
      return { value: lines.join('\n'), what: `line ${line + 1} duplicated` };
    case 5: {
      const shift = random.pick([' ', '  ', '\t']);
      lines[line] = random.chance(0.5) ? `${shift}${lines[line]}` : (lines[line] as string).replace(/^\s{1,2}/, '');
      return { value: lines.join('\n'), what: `line ${line + 1} re-indented` };
    }
    default: {
      const random32 = Buffer.alloc(1 + random.int(64));
      for (let i = 0; i < random32.length; i++) random32[i] = random.int(256);
      const offset = random.int(bytes.length);
      return { value: Buffer.concat([bytes.subarray(0, offset), random32, bytes.subarray(offset)]).toString('utf8'), what: `${random32.length} random bytes inserted at ${offset}` };
    }
  }
}
