// Reads the file registry's multi-document YAML into a MeshModel, or into problems that each
// name the file, line, document and field, e.g.
//   mesh.yaml:14:17: document 3 (TrafficRoute default/orders): spec.http[0].route[1].weight: must be between 0 and 100, got 140
import { isNode, LineCounter, parseAllDocuments, parseDocument, type Document } from 'yaml';
import { buildMeshModel, type ModelSettings } from '../model/build-mesh-model.ts';
import type { MeshModel } from '../model/mesh-model.ts';
import { DOCUMENT_KIND_NAMES, DocumentCollector } from '../resources/document-kinds.ts';
import { objectKey, WEFT_API_VERSION } from '../resources/object-meta.ts';
import { Field, FieldError, formatPath, quote, type FieldPath } from './field.ts';

export interface FileProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** 1-based index of the document in the file. */
  readonly document: number;
  /** "Kind namespace/name", when known. */
  readonly object: string | undefined;
  readonly field: string | undefined;
  readonly problem: string;
}

export function formatFileProblem(problem: FileProblem): string {
  const object = problem.object ? ` (${problem.object})` : '';
  const field = problem.field ? `${problem.field}: ` : '';
  return `${problem.file}:${problem.line}:${problem.column}: document ${problem.document}${object}: ${field}${problem.problem}`;
}

export type MeshFileResult = { readonly ok: true; readonly model: MeshModel; readonly documents: number } | { readonly ok: false; readonly problems: readonly FileProblem[] };

/** Alias expansions allowed in one document; a document expanding more is refused ("billion laughs"). */
const MAX_ALIAS_COUNT = 100;

/** At most this many problems are reported for one file; the first ones matter most. */
const MAX_PROBLEMS = 20;

interface ParsedDocument {
  readonly index: number;
  readonly doc: Document;
  readonly object: string;
}

/** Where field `path` of `doc` is in its file (the nearest existing node: a missing field is reported where its parent is). */
export function fieldPosition(doc: Document, path: FieldPath, lines: LineCounter): { line: number; column: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  const { line, col } = lines.linePos(doc.range?.[0] ?? 0);
  return { line, column: col };
}

export function readMeshFile(text: string, file: string, settings?: ModelSettings): MeshFileResult {
  const lines = new LineCounter();
  const problems: FileProblem[] = [];
  const collector = new DocumentCollector();
  const parsed: ParsedDocument[] = [];
  const byObject = new Map<string, ParsedDocument>();

  const yamlDocuments = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  for (const [offset, doc] of yamlDocuments.entries()) {
    const index = offset + 1;
    const at = (path: FieldPath, object: string | undefined, field: string | undefined, problem: string): void => {
      problems.push({ file, ...fieldPosition(doc, path, lines), document: index, object, field, problem });
    };
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        const { line, col } = lines.linePos(error.pos[0]);
        problems.push({ file, line, column: col, document: index, object: undefined, field: undefined, problem: `YAML: ${error.message.split('\n')[0]}` });
      }
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      // An alias bomb ("billion laughs") or nesting too deep to expand: refused, not expanded.
      at([], undefined, undefined, `YAML: ${(error as Error).message}`);
      continue;
    }
    if (value === null || value === undefined) continue; // an empty document, e.g. after a trailing '---'
    const root = new Field(value);
    try {
      const object = collectDocument(root, collector, (found) => byObject.get(found)?.index);
      const entry = { index, doc, object };
      parsed.push(entry);
      byObject.set(object, entry);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      at(error.path, describeObject(root), formatPath(error.path), error.problem);
    }
  }
  if (problems.length > 0) return { ok: false, problems: problems.slice(0, MAX_PROBLEMS) };

  const built = buildMeshModel(collector.documents(), settings);
  if (!built.ok) {
    for (const problem of built.problems.slice(0, MAX_PROBLEMS)) {
      const object = `${problem.kind} ${problem.key}`;
      const entry = byObject.get(object) as ParsedDocument;
      problems.push({ file, ...fieldPosition(entry.doc, problem.path, lines), document: entry.index, object, field: formatPath(problem.path), problem: problem.problem });
    }
    return { ok: false, problems };
  }
  return { ok: true, model: built.model, documents: parsed.length };
}

/**
 * Checks one document's envelope and adds it to `collector`; its "Kind namespace/name". Throws
 * a FieldError; `definedBy` says which earlier document already defined an object, if one did.
 */
function collectDocument(root: Field, collector: DocumentCollector, definedBy: (object: string) => number | undefined): string {
  root.object(['apiVersion', 'kind', 'metadata', 'spec']);
  const apiVersion = root.get('apiVersion').string();
  if (apiVersion !== WEFT_API_VERSION) root.get('apiVersion').fail(`expected ${WEFT_API_VERSION}, got ${quote(apiVersion)}`);
  const kind = root.get('kind').choice(DOCUMENT_KIND_NAMES);
  const meta = collector.add(kind, root);
  const object = `${kind} ${objectKey(meta)}`;
  const earlier = definedBy(object);
  if (earlier !== undefined) root.get('metadata').get('name').fail(`${object} is already defined by document ${earlier}`);
  return object;
}

/** A line that starts or ends a YAML document: inside no scalar, as YAML reserves them. */
const DOCUMENT_MARKER = /^(?:---|\.\.\.)(?:[ \t].*)?$/;

/**
 * readMeshFile for a file read again and again (the file registry): documents whose text has
 * not changed are not parsed again. A file with any problem takes readMeshFile's full path,
 * which knows lines and columns; so does anything the split here is unsure of (directives).
 */
export class MeshFileReader {
  private cache = new Map<string, unknown>();
  /** Documents the last read had to parse (not found in the cache); -1 when it took the full path. */
  parsedDocuments = 0;

  read(text: string, file: string, settings?: ModelSettings): MeshFileResult {
    this.parsedDocuments = 0;
    const values = this.documentValues(text);
    if (values) {
      const collector = new DocumentCollector();
      const seen = new Set<string>();
      let clean = true;
      try {
        for (const value of values) {
          const object = collectDocument(new Field(value), collector, (found) => (seen.has(found) ? 0 : undefined));
          seen.add(object);
        }
      } catch (error) {
        if (!(error instanceof FieldError)) throw error;
        clean = false;
      }
      if (clean) {
        const built = buildMeshModel(collector.documents(), settings);
        if (built.ok) return { ok: true, model: built.model, documents: values.length };
      }
    }
    this.parsedDocuments = -1;
    return readMeshFile(text, file, settings);
  }

  /** Each non-empty document's value, from the cache where its text is unchanged; undefined to take the full path. */
  private documentValues(text: string): unknown[] | undefined {
    if (/^%/m.test(text)) return undefined;
    const next = new Map<string, unknown>();
    const values: unknown[] = [];
    const finish = (lines: string[]): boolean => {
      const chunk = lines.join('\n');
      if (chunk.trim() === '') return true;
      let value = next.get(chunk) ?? this.cache.get(chunk);
      if (value === undefined) {
        this.parsedDocuments++;
        const doc = parseDocument(chunk, { uniqueKeys: true, prettyErrors: false });
        if (doc.errors.length > 0 || doc.warnings.length > 0) return false;
        try {
          value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
        } catch {
          return false;
        }
        if (value === null || value === undefined) return true;
      }
      next.set(chunk, value);
      values.push(value);
      return true;
    };
    let lines: string[] = [];
    for (const line of text.split('\n')) {
      if (DOCUMENT_MARKER.test(line)) {
        // Content after '---' on the marker line belongs to the next document: leave it to the full parser.
        if (line.length > 3 && line.slice(3).trim() !== '' && !line.slice(3).trim().startsWith('#')) return undefined;
        if (!finish(lines)) return undefined;
        lines = [];
      } else lines.push(line);
    }
    if (!finish(lines)) return undefined;
    this.cache = next;
    return values;
  }
}

/** "Kind namespace/name" of a document that failed validation, as far as it can be read. */
function describeObject(root: Field): string | undefined {
  // Bounded: a name that failed validation may be any length.
  const read = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? (value.length > 63 ? `${value.slice(0, 63)}…` : value) : undefined);
  const record = (value: unknown): Record<string, unknown> => (typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {});
  const kind = read(record(root.value).kind);
  const metadata = record(record(root.value).metadata);
  const name = read(metadata.name);
  if (!kind) return undefined;
  return name ? `${kind} ${read(metadata.namespace) ?? 'default'}/${name}` : kind;
}
