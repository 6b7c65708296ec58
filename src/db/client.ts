import type { Config } from '../config.js';
import type { DatabaseHandle, QueryListener } from './database.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

/** PostgreSQL when DATABASE_URL is set, otherwise the embedded PGlite under DATA_DIR. */
export async function openDatabase(
  config: Config,
  onQuery?: QueryListener,
): Promise<DatabaseHandle> {
  if (config.DATABASE_URL) {
    return openPostgres({
      connectionString: config.DATABASE_URL,
      poolMax: config.DATABASE_POOL_MAX,
      listenConnectionString: config.DATABASE_LISTEN_URL,
      onQuery,
    });
  }
  return openPglite({ dataDir: config.DATA_DIR, onQuery });
}
