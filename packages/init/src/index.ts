export { captureRules, rewriteNatTable, isWeftLine, type CaptureOptions } from './capture-rules.ts';
export { captureOptions, CaptureFlagError, type CaptureFlags } from './capture-flags.ts';
