import pino, { type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';

/** JSON logs. Keys never reach a log line, whatever gets logged. Tests pass a destination to read them. */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.LOG_LEVEL,
    base: { service: 'lede' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      // `*.headers.authorization` also covers an error carrying the request's headers (`err.headers`).
      paths: [
        'req.headers.authorization',
        'headers.authorization',
        '*.headers.authorization',
        'authorization',
        'key',
        '*.key',
        'secretHash',
        '*.secretHash',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
