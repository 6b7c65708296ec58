import pino, { type Logger } from 'pino';
import type { Config } from './config.js';

/** JSON logs. Keys never reach a log line, whatever gets logged. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { service: 'lede' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'authorization', 'key', '*.key', 'secretHash', '*.secretHash'],
      censor: '[redacted]',
    },
  });
}
