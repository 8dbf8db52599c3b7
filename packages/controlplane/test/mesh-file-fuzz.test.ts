// Hostile mesh files: seeded random edits of a realistic file (every document kind). Thousands of
// edited documents go through validation and model building directly, hundreds of edited files
// (values and text) through readMeshFile and MeshFileReader, and a few known attacks (alias
// bombs, deep nesting) by hand. Whatever the edit, reading returns a model or problems — it never
// throws — and each problem is precise: a line and column inside the file, the document's number,
// and a field path (or the YAML parser's own message). An accepted file translates to xDS for
// every proxy. Replay a failure with FUZZ_SEED=<seed>.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { createLogger, fuzzSeed, pollUntil, SeededRandom } from '@weft/runtime';
import { buildMeshModel } from '../src/model/build-mesh-model.ts';
import type { MeshModel } from '../src/model/mesh-model.ts';
import { Field, FieldError } from '../src/registry/field.ts';
import { FileRegistry } from '../src/registry/file-registry.ts';
import { formatFileProblem, MeshFileReader, readMeshFile, type MeshFileResult } from '../src/registry/mesh-file.ts';
import { DOCUMENT_KIND_NAMES, DocumentCollector } from '../src/resources/document-kinds.ts';
import { SnapshotTranslator } from '../src/xds/translate.ts';
import { damageText, mutateValue, type Mutated } from './document-mutations.ts';
import { FUZZ_BASE_MESH } from './fixtures.ts';

const DOCUMENT_CASES = 4000;
const FILE_CASES = 150;
/** A formatted problem longer than this quotes too much of the file to be read. */
const MAX_PROBLEM_CHARS = 1000;

const baseDocuments = parseAllDocuments(FUZZ_BASE_MESH).map((doc) => doc.toJS() as unknown);

/** One hostile file: value edits of some documents, text damage, or both. */
function hostileFile(random: SeededRandom): Mutated<string> {
  const documents = [...baseDocuments];
  const what: string[] = [];
  const edits = random.chance(0.8) ? 1 + random.int(3) : 0;
  for (let i = 0; i < edits; i++) {
    const index = random.int(documents.length);
    const mutated = mutateValue(documents[index], random);
    documents[index] = mutated.value;
    what.push(`document ${index + 1} ${mutated.what}`);
  }
  let text = documents.map((doc) => stringify(doc)).join('---\n');
  if (edits === 0 || random.chance(0.3)) {
    const damaged = damageText(text, random);
    text = damaged.value;
    what.push(damaged.what);
  }
  return { value: text, what: what.join('; ') };
}

/** Problems name a place in the file, the document, and a field or the YAML parser's complaint. */
function assertPrecise(result: MeshFileResult, text: string, context: string): void {
  if (result.ok) return;
  assert.ok(result.problems.length > 0, `${context}: refused without a problem`);
  const lines = text.split('\n').length;
  for (const problem of result.problems) {
    const line = formatFileProblem(problem);
    assert.ok(problem.line >= 1 && problem.line <= lines + 1 && problem.column >= 1, `${context}: position outside the file: ${line}`);
    assert.ok(problem.document >= 1, `${context}: no document number: ${line}`);
    assert.ok(problem.field !== undefined || problem.problem.startsWith('YAML: '), `${context}: names no field: ${line}`);
    assert.ok(line.length <= MAX_PROBLEM_CHARS, `${context}: ${line.length} characters: ${line.slice(0, MAX_PROBLEM_CHARS)}…`);
  }
}

function assertTranslates(model: MeshModel, context: string): void {
  const translator = new SnapshotTranslator(model, { trustDomain: 'cluster.local', rootsPem: [] });
  for (const workload of model.workloads.values()) {
    assert.doesNotThrow(() => translator.snapshotFor(workload.meta.name, workload.meta.namespace), `${context}: translating for ${workload.meta.name}.${workload.meta.namespace}`);
  }
  assert.doesNotThrow(() => translator.snapshotFor('unknown', 'elsewhere'), `${context}: translating for an unknown proxy`);
}

function read(what: () => MeshFileResult, context: string): MeshFileResult {
  try {
    return what();
  } catch (error) {
    assert.fail(`${context}: threw ${(error as Error).stack ?? String(error)}`);
  }
}

describe('mesh file fuzz', () => {
  it('the base file is valid, so every refusal below is caused by its edit', () => {
    const result = readMeshFile(FUZZ_BASE_MESH, 'mesh.yaml');
    assert.ok(result.ok, result.ok ? '' : result.problems.map(formatFileProblem).join('\n'));
    assert.equal(result.documents, baseDocuments.length);
  });

  it(`${DOCUMENT_CASES} edited documents: refused with a FieldError naming a field, or built into a model that translates`, () => {
    const seed = fuzzSeed(0x5eed_0001);
    const random = new SeededRandom(seed);
    let refused = 0;
    for (let index = 0; index < DOCUMENT_CASES; index++) {
      const documents = [...baseDocuments];
      const target = random.int(documents.length);
      const { value, what } = mutateValue(documents[target], random);
      documents[target] = value;
      const context = `seed ${seed} case ${index} (document ${target + 1} ${what})`;
      const collector = new DocumentCollector();
      try {
        for (const document of documents) {
          const root = new Field(document);
          collector.add(root.get('kind').choice(DOCUMENT_KIND_NAMES), root);
        }
      } catch (error) {
        assert.ok(error instanceof FieldError, `${context}: threw ${(error as Error).stack ?? String(error)}`);
        assert.ok(error.message.length <= MAX_PROBLEM_CHARS, `${context}: ${error.message.length} characters: ${error.message.slice(0, MAX_PROBLEM_CHARS)}…`);
        refused++;
        continue;
      }
      const built = buildMeshModel(collector.documents());
      if (!built.ok) {
        for (const problem of built.problems) assert.ok(problem.path.length > 0 && problem.problem.length <= MAX_PROBLEM_CHARS, `${context}: imprecise: ${JSON.stringify(problem).slice(0, MAX_PROBLEM_CHARS)}`);
        refused++;
        continue;
      }
      assertTranslates(built.model, context);
    }
    assert.ok(refused > DOCUMENT_CASES / 2, `only ${refused} of ${DOCUMENT_CASES} edits were refused`);
  });

  it(`${FILE_CASES} edited files (values and text): never a throw, every problem precise, MeshFileReader agrees, accepted files translate`, () => {
    const seed = fuzzSeed(0x5eed_0002);
    const random = new SeededRandom(seed);
    // One reader for every case, as the file registry keeps one: its cache sees them all.
    const reader = new MeshFileReader();
    let refused = 0;
    for (let index = 0; index < FILE_CASES; index++) {
      const { value: text, what } = hostileFile(random);
      const context = `seed ${seed} case ${index} (${what})`;
      const full = read(() => readMeshFile(text, 'mesh.yaml'), context);
      assertPrecise(full, text, context);
      if (full.ok) assertTranslates(full.model, context);
      const cached = read(() => reader.read(text, 'mesh.yaml'), `${context}, MeshFileReader`);
      assert.equal(cached.ok, full.ok, `${context}: MeshFileReader says ${cached.ok ? 'valid' : 'invalid'}, readMeshFile the opposite`);
      if (!cached.ok && !full.ok) assert.deepEqual(cached.problems, full.problems, context);
      if (!full.ok) refused++;
    }
    // The edits must mostly break something, or the property above tested little.
    assert.ok(refused > FILE_CASES / 2, `only ${refused} of ${FILE_CASES} edits were refused`);
  });

  it('refuses an alias bomb ("billion laughs") with a YAML problem instead of expanding it or throwing', () => {
    // Eight levels of nine aliases each: 9^8 (43 million) strings once expanded.
    const names = 'abcdefgh';
    const levels = [...names].map((name, level) => `${name}: &${name} [${Array<string>(9).fill(level === 0 ? 'lol' : `*${names[level - 1]}`).join(', ')}]`);
    const bomb = `apiVersion: mesh.weft.dev/v1alpha1\nkind: Workload\nmetadata: {name: bomb}\nspec:\n  labels:\n${levels.map((line) => `    ${line}`).join('\n')}\n`;
    for (const [reader, result] of [['readMeshFile', readMeshFile(bomb, 'mesh.yaml')], ['MeshFileReader', new MeshFileReader().read(bomb, 'mesh.yaml')]] as const) {
      assert.equal(result.ok, false, reader);
      assert.match(result.ok ? '' : formatFileProblem(result.problems[0] as never), /^mesh\.yaml:1:1: document 1: YAML: Excessive alias count/, reader);
    }
  });

  it('refuses nesting deeper than the parser handles with a YAML problem, in flow and block style', () => {
    const flow = `apiVersion: mesh.weft.dev/v1alpha1\nkind: Workload\nmetadata: {name: deep}\nspec: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`;
    const block = `apiVersion: mesh.weft.dev/v1alpha1\nkind: Workload\nmetadata: {name: deep}\nspec:\n${Array.from({ length: 3000 }, (_, depth) => `${' '.repeat(depth + 1)}- `).join('\n')}x\n`;
    for (const text of [flow, block]) {
      const result = read(() => readMeshFile(text, 'mesh.yaml'), 'deep nesting');
      assert.equal(result.ok, false);
      assertPrecise(result, text, 'deep nesting');
    }
  });

  it('keeps an empty document in the middle of a file as harmless as one at its end, in both readers', () => {
    const text = FUZZ_BASE_MESH.replace('---\n', '---\n---\n');
    const full = readMeshFile(text, 'mesh.yaml');
    assert.ok(full.ok, full.ok ? '' : full.problems.map(formatFileProblem).join('\n'));
    assert.equal(new MeshFileReader().read(text, 'mesh.yaml').ok, true);
  });
});

describe('FileRegistry under hostile edits', () => {
  it('refuses each broken edit of the watched file with its problems, and keeps the last good model until a valid edit', async (t) => {
    const seed = fuzzSeed(0x5eed_0003);
    const random = new SeededRandom(seed);
    const dir = await mkdtemp(join(tmpdir(), 'weft-fuzz-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'mesh.yaml');
    await writeFile(path, FUZZ_BASE_MESH);
    const registry = new FileRegistry({ path, log: createLogger('test', 'silent') });
    const good = await registry.start();
    t.after(() => registry.stop());
    const models: unknown[] = [];
    registry.onModel((model) => models.push(model));

    // Refused edits, each with problems unlike the one before, so each refusal is seen being made.
    let previous = '';
    for (let edits = 0; edits < 6;) {
      const { value: text, what } = hostileFile(random);
      const expected = readMeshFile(text, 'mesh.yaml');
      if (expected.ok) continue;
      const problems = expected.problems.map(formatFileProblem);
      if (problems.join('\n') === previous) continue;
      previous = problems.join('\n');
      edits++;
      await writeFile(path, text);
      await pollUntil(`seed ${seed}: refusal of "${what}"`, 15_000, () => (registry.status().rejected.join('\n') === previous ? true : undefined));
      assert.equal(registry.current(), good, `seed ${seed}: ${what}: the last good model stays`);
      assert.deepEqual(models, [], `seed ${seed}: ${what}: no model was published`);
    }

    await writeFile(path, FUZZ_BASE_MESH.replace('maxEjectionPercent: 50', 'maxEjectionPercent: 40'));
    const fixed = await pollUntil('the valid edit accepted', 15_000, () => (models.length > 0 ? registry.current() : undefined));
    assert.notEqual(fixed, good);
    assert.deepEqual(registry.status().rejected, []);
  });
});
