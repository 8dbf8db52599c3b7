// V8 settings the sidecar runs with, wherever it is started (the injected container's
// NODE_OPTIONS, the weft-proxy shebang, the demo, the benchmarks). A 2 MB young generation
// (V8's default grows to 16 MB or more) keeps the per-request garbage in cache: on bench/pair
// (3 reps each, same hour) the Weft pair went from 2,139 to 2,596 req/s, and loaded sidecar RSS
// from 288-310 to 164-192 MB (docs/performance.md).
export const PROXY_NODE_OPTIONS = '--max-semi-space-size=2';
