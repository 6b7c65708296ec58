import pg from 'pg';
import { isDatabaseUnavailable, pgErrorCode } from './errors.js';

/** A statement that ran too long on a replica would run too long on the primary as well. */
const NOT_RETRIED_CODES = new Set(['57014', '55P03', '25P03']);
/**
 * A standby cancels a read that conflicts with the WAL it replays (a vacuumed row the read still
 * needed, a dropped table): serialization_failure or database_dropped. The primary has no such
 * conflict.
 */
const RECOVERY_CONFLICT_CODES = new Set(['40001', '57P04']);

export interface ReadFallback {
  /** Runs the same statement on the primary. */
  query(config: pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult>;
  /** The replica could not be reached: stop sending it reads until it is checked again. */
  unreachable(error: unknown): void;
}

/** True when a read failed because of where it ran, not because of what it asked. */
export function shouldRunOnPrimary(error: unknown): boolean {
  const code = pgErrorCode(error) ?? '';
  if (RECOVERY_CONFLICT_CODES.has(code)) return true;
  return isDatabaseUnavailable(error) && !NOT_RETRIED_CODES.has(code);
}

/**
 * A replica's pool whose reads run again on the primary when the replica fails them for being
 * away (stopped, restarting, unreachable) or for a recovery conflict, so a replica going down
 * between two health checks costs no request. Only single statements outside a transaction
 * (drizzle's `pool.query`) are retried; reads are idempotent. drizzle recognises it as a pool by
 * its class name, so its transactions still take a connection of their own.
 */
export function replicaPool(config: pg.PoolConfig, fallback: ReadFallback): pg.Pool {
  class ReplicaPool extends pg.Pool {
    // pg's overloads (callbacks, submittables) are left to the base class; drizzle uses the promise form.
    override query(...args: unknown[]): never {
      const [config, values, callback] = args;
      const base = super.query as (...params: unknown[]) => unknown;
      if (typeof values === 'function' || callback !== undefined || typeof config !== 'object' || config === null || 'submit' in config) {
        return base.apply(this, args) as never;
      }
      const queryConfig = config as pg.QueryConfig;
      const params = values as unknown[] | undefined;
      return (base.call(this, queryConfig, params) as Promise<pg.QueryResult>).catch((error: unknown) => {
        if (!shouldRunOnPrimary(error)) throw error;
        if (isDatabaseUnavailable(error)) fallback.unreachable(error);
        return fallback.query(queryConfig, params);
      }) as never;
    }
  }
  return new ReplicaPool(config);
}
