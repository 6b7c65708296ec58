import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { Database, DatabaseHandle, QueryListener } from './database.js';
import {
  APPLIED_MIGRATIONS_SQL,
  MIGRATION_LOCK_KEY,
  MIGRATIONS_FOLDER,
  shippedMigrationCount,
} from './migrations.js';
import { listenForNotifications } from './postgres-listener.js';
import { releaseConnectionsOnFailure } from './postgres-transactions.js';
import { type ReadFallback, replicaPool } from './replica-pool.js';
import { statementBoundedClient } from './statement-bounded-client.js';
import * as schema from './schema/index.js';

export interface PostgresOptions {
  connectionString: string;
  poolMax: number;
  onQuery?: QueryListener;
  /**
   * A direct connection to the primary for what needs a session (LISTEN, the migration lock), when
   * connectionString goes through a pooler in transaction mode; default connectionString.
   */
  listenConnectionString?: string;
  /** Set for a read replica: its failed reads run again there (replica-pool.ts). */
  fallback?: ReadFallback;
  /** application_name, as pg_stat_activity shows it. */
  applicationName?: string;
}

/*
 * Timeouts: an outage or a stuck query must become a quick 503 with Retry-After, never a request
 * that hangs while the pool fills up behind it. Lede's statements take milliseconds.
 */
/**
 * Waiting for a connection, new or from a full pool. A refused connection fails at once; this
 * bounds the case where PostgreSQL (or the network) swallows the attempt, so an outage is
 * answered within about 2 s.
 */
export const CONNECT_TIMEOUT_MS = 2_000;
/**
 * A statement running this long is a runaway (a bad plan, a missing index), not a slow page:
 * cancelled (57014) before it holds a pooled connection for the length of a client's patience.
 */
export const STATEMENT_TIMEOUT_MS = 5_000;
/**
 * Waiting for a row or table lock. Lede's transactions last milliseconds, so a lock held longer
 * than the outage budget is something stuck (a manual session, a DDL): fail (55P03) rather than
 * queue every request for that table behind it.
 */
export const LOCK_TIMEOUT_MS = 2_000;
/**
 * Lede never waits on anything but the database inside a transaction; a session idle in one this
 * long is a bug or a hung process holding locks, and PostgreSQL ends it.
 */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;
/** How much longer than the server's statement timeout the client waits before giving up itself. */
const QUERY_TIMEOUT_MARGIN_MS = 1_000;
/** TCP keepalive on pooled connections, so a peer that vanished silently is noticed while idle. */
const KEEPALIVE_INITIAL_DELAY_MS = 10_000;

export interface PostgresHandle extends DatabaseHandle {
  /** The pool itself: a replica's reads fall back to the primary's. */
  readonly pool: pg.Pool;
}

export async function openPostgres(options: PostgresOptions): Promise<PostgresHandle> {
  const poolConfig: pg.PoolConfig = {
    connectionString: options.connectionString,
    max: options.poolMax,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    lock_timeout: LOCK_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    // The client's own bound on a statement, for when the server cannot enforce one: a backend
    // orphaned by a crashed postmaster can leave a socket open with no answer ever coming, and
    // the connection (a transaction's, say) would stay checked out for good.
    query_timeout: STATEMENT_TIMEOUT_MS + QUERY_TIMEOUT_MARGIN_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    application_name: options.applicationName ?? 'lede',
    Client: statementBoundedClient(),
  };
  const pool = options.fallback ? replicaPool(poolConfig, options.fallback) : new pg.Pool(poolConfig);
  // An idle client losing its connection emits 'error' on the pool; without a listener that
  // would crash the process. The next query gets a fresh connection.
  pool.on('error', () => {});
  // A client checked out for a transaction loses its connection between two statements: pg emits
  // 'error' on the client, and with no listener that would crash the process. The transaction's
  // next statement fails on its own (and is answered 503).
  pool.on('connect', (client) => client.on('error', () => {}));
  const onQuery = options.onQuery;
  const db = drizzle({
    client: pool,
    schema,
    logger: onQuery ? { logQuery: (sql) => onQuery(sql) } : false,
  }) as unknown as Database;
  releaseConnectionsOnFailure(db, pool);

  return {
    db,
    pool,
    kind: 'postgres',
    async ping() {
      await pool.query('select 1');
    },
    listen(channel, subscriber) {
      return listenForNotifications(options.listenConnectionString ?? options.connectionString, channel, subscriber);
    },
    poolStats() {
      return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    },
    async migrate() {
      // Several processes may start at once on one database: the advisory lock, held on one
      // connection for the whole run, lets exactly one of them migrate at a time.
      // The request timeouts do not fit here: the lock wait lasts as long as another process's
      // migration, and a migration may rewrite a large table. The connection is discarded after.
      // The lock and the settings belong to a session: through a pooler in transaction mode each
      // statement could land on another server connection, so the direct URL is used when given.
      const direct = options.listenConnectionString;
      const client = direct ? new pg.Client({ connectionString: direct, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'lede-migrate' }) : await pool.connect();
      if (direct) await (client as pg.Client).connect();
      try {
        await client.query('set statement_timeout = 0; set lock_timeout = 0');
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        try {
          await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        }
      } finally {
        if (direct) await client.end();
        else (client as pg.PoolClient).release(true);
      }
    },
    async migrationsApplied() {
      try {
        const result = await pool.query<{ applied: number }>(APPLIED_MIGRATIONS_SQL);
        return (result.rows[0]?.applied ?? 0) >= shippedMigrationCount();
      } catch {
        return false;
      }
    },
    async close() {
      if (pool.ended) return;
      await pool.end();
    },
  };
}
