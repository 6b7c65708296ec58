import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url));

interface Journal {
  entries: { tag: string }[];
}

/** How many migrations this build ships; readiness compares it with what the database recorded. */
export function shippedMigrationCount(): number {
  const journal = JSON.parse(
    readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8'),
  ) as Journal;
  return journal.entries.length;
}

/** drizzle's migrators record applied migrations here, on both drivers. */
export const APPLIED_MIGRATIONS_SQL =
  "select count(*)::int as applied from drizzle.__drizzle_migrations";

/** A fixed key for pg_advisory_lock so that concurrent starts migrate one at a time. */
export const MIGRATION_LOCK_KEY = 4_242_001;
