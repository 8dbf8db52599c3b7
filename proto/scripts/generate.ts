// Generates proto/gen/weft.js (static protobufjs code, ES module) and proto/gen/weft.d.ts
// from the .proto files. Runs on `npm ci` (root `prepare`); the output is never edited by hand
// and never committed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const protoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const genDir = join(protoRoot, 'gen');

function protoFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return protoFiles(path);
    return entry.name.endsWith('.proto') ? [relative(protoRoot, path)] : [];
  });
}

function findBin(name: string): string {
  // npm hoists the CLI to the workspace root unless versions clash.
  const candidates = [join(protoRoot, 'node_modules', '.bin', name), join(protoRoot, '..', 'node_modules', '.bin', name)];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`${name} not found: run npm ci at the repository root`);
  return found;
}

mkdirSync(genDir, { recursive: true });
const js = join(genDir, 'weft.js');
const files = protoFiles(join(protoRoot, 'weft')).sort();
execFileSync(
  findBin('pbjs'),
  ['-t', 'static-module', '-w', 'es6', '--force-number', '--no-verify', '--no-delimited', '-o', js, ...files],
  { cwd: protoRoot, stdio: 'inherit' },
);
execFileSync(findBin('pbts'), ['-o', join(genDir, 'weft.d.ts'), js], { cwd: protoRoot, stdio: 'inherit' });
process.stdout.write(`generated ${relative(protoRoot, js)} and weft.d.ts from ${files.length} .proto files\n`);
