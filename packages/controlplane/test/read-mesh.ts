// Reading test meshes: the model of a valid file, or the problems of an invalid one.
import assert from 'node:assert/strict';
import type { MeshModel } from '../src/model/mesh-model.ts';
import { formatFileProblem, readMeshFile } from '../src/registry/mesh-file.ts';
import { SnapshotTranslator } from '../src/xds/translate.ts';

export function meshModel(text: string): MeshModel {
  const result = readMeshFile(text, 'mesh.yaml');
  assert.ok(result.ok, result.ok ? '' : result.problems.map(formatFileProblem).join('\n'));
  return result.model;
}

export function meshProblems(text: string): string[] {
  const result = readMeshFile(text, 'mesh.yaml');
  assert.equal(result.ok, false, 'expected the file to be refused');
  return result.ok ? [] : result.problems.map(formatFileProblem);
}

/** The file is refused with `problem` at exactly `field` (e.g. "spec.http[0].fault.abort"). */
export function assertRefused(text: string, field: string, problem: string): void {
  const problems = meshProblems(text);
  assert.ok(problems.some((line) => line.includes(`): ${field}: ${problem}`)), `expected "${field}: ${problem}", got:\n${problems.join('\n')}`);
}

export function translatorFor(text: string): SnapshotTranslator {
  return new SnapshotTranslator(meshModel(text));
}

/** A decoded message as protobufjs's JSON form: fields at their default value left out. */
export function plain(message: unknown): unknown {
  return JSON.parse(JSON.stringify(message)) as unknown;
}
