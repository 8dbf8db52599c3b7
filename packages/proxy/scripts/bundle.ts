// Bundles the sidecar into one JavaScript file, dist/weft-proxy.mjs: what the image runs and the
// benchmarks measure. A TypeScript entry point makes Node load its type-stripping compiler
// (wasm) into every sidecar, and ~150 modules resolve one by one; the bundle idles at about
// 79 MB instead of 112-113 MB (bench/pair). The original-destination addon stays a file of
// its own (loaded by package name, see @weft/original-dst).
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  entryPoints: [`${root}src/main.ts`],
  outfile: `${root}dist/weft-proxy.mjs`,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  // The CommonJS dependencies (grpc-js, pino, protobufjs) call require(), which an ES module lacks.
  banner: { js: "import { createRequire as weftCreateRequire } from 'node:module';\nconst require = weftCreateRequire(import.meta.url);" },
  legalComments: 'eof',
  logLevel: 'warning',
});
