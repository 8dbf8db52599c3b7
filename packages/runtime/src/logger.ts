// One JSON logger per process (pino). Fields that can carry credentials are redacted wherever
// they appear, so a careless log call cannot leak a token or key.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
  'token',
  '*.token',
  'privateKey',
  '*.privateKey',
  'key',
  '*.key',
];

export function createLogger(component: string, level: string = process.env.WEFT_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { component, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  });
}
