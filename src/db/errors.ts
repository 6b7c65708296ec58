/** PostgreSQL error codes (SQLSTATE) that Lede turns into client answers. */
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';
export const PG_INVALID_TEXT_REPRESENTATION = '22P02';
export const PG_CHARACTER_NOT_IN_REPERTOIRE = '22021';
export const PG_UNTRANSLATABLE_CHARACTER = '22P05';
export const PG_DATETIME_OUT_OF_RANGE = '22008';

/**
 * Failures that say nothing about the request and may well pass on a retry: the server is away,
 * restarting or overloaded, or a statement hit one of the timeouts set in postgres.ts. All are
 * answered 503 with Retry-After. (Class 08, connection_exception, is matched by prefix.)
 */
const UNAVAILABLE_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown: pg_ctl stop, pg_terminate_backend
  '57P02', // crash_shutdown: another backend crashed
  '57P03', // cannot_connect_now: starting up, shutting down, in recovery
  '53300', // too_many_connections
  '57014', // query_canceled: statement_timeout
  '55P03', // lock_not_available: lock_timeout
  '25P03', // idle_in_transaction_session_timeout
]);

/** The driver's own errors carry no code; these are its messages (and PGlite's) for a lost connection. */
const UNAVAILABLE_ERROR_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated', // "… unexpectedly", "… due to connection timeout"
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'PGlite is closed',
  'Cannot use a pool after calling end',
];

/** drizzle wraps driver errors (DrizzleQueryError.cause); walk the chain to the driver's error. */
function* causeChain(error: unknown): Generator<Record<string, unknown>> {
  let current = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth += 1) {
    yield current as Record<string, unknown>;
    current = (current as { cause?: unknown }).cause;
  }
}

export function pgErrorCode(error: unknown): string | undefined {
  for (const link of causeChain(error)) {
    if (typeof link.code === 'string') return link.code;
  }
  return undefined;
}

export function pgConstraint(error: unknown): string | undefined {
  for (const link of causeChain(error)) {
    if (typeof link.constraint === 'string') return link.constraint;
  }
  return undefined;
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (pgErrorCode(error) !== PG_UNIQUE_VIOLATION) return false;
  return constraint === undefined || pgConstraint(error) === constraint;
}

export function isForeignKeyViolation(error: unknown, constraint?: string): boolean {
  if (pgErrorCode(error) !== PG_FOREIGN_KEY_VIOLATION) return false;
  return constraint === undefined || pgConstraint(error) === constraint;
}

/**
 * True when the database could not be reached or could not answer in time, as opposed to a
 * query it rejected: the client should retry later.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const link of causeChain(error)) {
    const code = typeof link.code === 'string' ? link.code : '';
    if (UNAVAILABLE_ERROR_CODES.has(code) || code.startsWith('08')) return true;
    const message = typeof link.message === 'string' ? link.message : '';
    if (UNAVAILABLE_ERROR_MESSAGES.some((fragment) => message.includes(fragment))) return true;
  }
  return false;
}
