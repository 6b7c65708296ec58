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
import * as schema from './schema/index.js';

export interface PostgresOptions {
  connectionString: string;
  poolMax: number;
  onQuery?: QueryListener;
}

const CONNECT_TIMEOUT_MS = 2_000;
const STATEMENT_TIMEOUT_MS = 10_000;
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

export async function openPostgres(options: PostgresOptions): Promise<DatabaseHandle> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolMax,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_TIMEOUT_MS,
    application_name: 'lede',
  });
  // An idle client losing its connection emits 'error' on the pool; without a listener that
  // would crash the process. The next query gets a fresh connection.
  pool.on('error', () => {});
  const onQuery = options.onQuery;
  const db = drizzle({
    client: pool,
    schema,
    logger: onQuery ? { logQuery: (sql) => onQuery(sql) } : false,
  }) as unknown as Database;

  return {
    db,
    kind: 'postgres',
    async ping() {
      await pool.query('select 1');
    },
    async migrate() {
      // Several processes may start at once on one database: the advisory lock, held on one
      // connection for the whole run, lets exactly one of them migrate at a time.
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        try {
          await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        }
      } finally {
        client.release();
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
