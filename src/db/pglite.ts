import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { lockDataDir } from './data-dir-lock.js';
import type { Database, DatabaseHandle, QueryListener } from './database.js';
import { APPLIED_MIGRATIONS_SQL, MIGRATIONS_FOLDER, shippedMigrationCount } from './migrations.js';
import * as schema from './schema/index.js';

export interface PgliteOptions {
  /** A directory to keep data in; omitted means in memory (tests). */
  dataDir?: string;
  /** For an in-memory database: start from this dump (`dumpDataDir`) instead of an empty cluster. */
  loadDataDir?: Blob;
  onQuery?: QueryListener;
}

/** A PGlite database can also be dumped, so tests can start each file from a migrated copy. */
export interface PgliteHandle extends DatabaseHandle {
  dump(): Promise<Blob>;
}

export async function openPglite(options: PgliteOptions): Promise<PgliteHandle> {
  let releaseLock = () => {};
  let client: PGlite;
  if (options.dataDir) {
    releaseLock = lockDataDir(options.dataDir);
    const pgdata = join(options.dataDir, 'pglite');
    mkdirSync(pgdata, { recursive: true });
    client = new PGlite(pgdata);
  } else {
    client = new PGlite(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {});
  }
  try {
    await client.waitReady;
  } catch (error) {
    releaseLock();
    throw error;
  }
  const onQuery = options.onQuery;
  const db = drizzle({
    client,
    schema,
    logger: onQuery ? { logQuery: (sql) => onQuery(sql) } : false,
  }) as unknown as Database;

  return {
    db,
    kind: 'pglite',
    async ping() {
      await client.query('select 1');
    },
    poolStats() {
      return null;
    },
    async migrate() {
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
    },
    /** One process, one connection: nothing is ever missed, so `lost` never happens. */
    async listen(channel, subscriber) {
      const unlisten = await client.listen(channel, (payload) => subscriber.notification(payload));
      subscriber.connected();
      return async () => {
        if (!client.closed) await unlisten();
      };
    },
    async dump() {
      return client.dumpDataDir('none');
    },
    async migrationsApplied() {
      try {
        const result = await client.query<{ applied: number }>(APPLIED_MIGRATIONS_SQL);
        return (result.rows[0]?.applied ?? 0) >= shippedMigrationCount();
      } catch {
        return false;
      }
    },
    async close() {
      try {
        if (!client.closed) await client.close();
      } finally {
        releaseLock();
      }
    },
  };
}
