import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type * as schema from './schema/index.js';

/**
 * What repositories accept: the database or a transaction opened on it (a transaction is a
 * PgDatabase too), on either driver. Repositories never learn which driver they run on.
 */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DatabaseKind = 'pglite' | 'postgres';

export interface DatabaseHandle {
  readonly db: Database;
  readonly kind: DatabaseKind;
  /** Cheap round trip, for readiness probes. */
  ping(): Promise<void>;
  /** Applies pending migrations from `migrations/`; safe to call from several processes at once. */
  migrate(): Promise<void>;
  /** True when every migration in `migrations/` is recorded as applied. */
  migrationsApplied(): Promise<boolean>;
  close(): Promise<void>;
  /**
   * Receives NOTIFY on `channel` (sent by any process, delivered when its transaction commits).
   * `connected` is called once listening (again after a lost connection is re-established:
   * anything sent in between was missed); `lost` when notifications may be missed from now on.
   * Resolves to a function that stops listening.
   */
  listen(channel: string, subscriber: NotificationSubscriber): Promise<() => Promise<void>>;
  /** Connection pool use, for metrics; null where there is no pool (PGlite's single connection). */
  poolStats?(): PoolStats | null;
}

export interface PoolStats {
  /** Connections open, idle or in use. */
  total: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

/** Called once per SQL statement sent; tests use it to count queries. */
export type QueryListener = (sql: string) => void;

export interface NotificationSubscriber {
  notification(payload: string): void;
  connected(): void;
  lost(): void;
}
