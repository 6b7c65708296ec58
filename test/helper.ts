import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { buildApp } from '../src/app.js';
import { configFrom, type Config } from '../src/config.js';
import type { DatabaseHandle, QueryListener } from '../src/db/database.js';
import { openPglite } from '../src/db/pglite.js';
import { openPostgres } from '../src/db/postgres.js';
import type { ApiKeyRole } from '../src/db/schema/keys.js';
import { keysService } from '../src/modules/keys/keys.service.js';

/** The subset of tap's Test that the helpers need. */
export interface TestContext {
  teardown(fn: () => unknown): void;
}

const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
export const databaseUnderTest = TEST_DATABASE_URL ? 'postgres' : 'pglite';

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  // A pool that has just closed can still hold the database for a moment: retry a plain drop.
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`drop database if exists "${name}"`);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await admin.end();
    }
  }
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));
const TEMPLATE_DIR = fileURLToPath(new URL('../.tap', import.meta.url));

/** Changes whenever a migration does, so a stale template is never used. */
function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR, { recursive: true, encoding: 'utf8' }).sort()) {
    const path = join(MIGRATIONS_DIR, file);
    if (statSync(path).isFile()) hash.update(file).update(readFileSync(path));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * A migrated in-memory PGlite. Creating and migrating a cluster costs seconds, loading a dump of
 * one about a third of that: the first test file to need it writes the dump (atomically, since
 * files run in parallel) and every later one starts from it.
 */
async function migratedPglite(onQuery?: QueryListener): Promise<DatabaseHandle> {
  const template = join(TEMPLATE_DIR, `pglite-template-${migrationsFingerprint()}.tar`);
  if (existsSync(template)) {
    return openPglite({ onQuery, loadDataDir: new Blob([readFileSync(template)]) });
  }
  const database = await openPglite({ onQuery });
  await database.migrate();
  const dump = Buffer.from(await (await database.dump()).arrayBuffer());
  mkdirSync(TEMPLATE_DIR, { recursive: true });
  const partial = `${template}.${process.pid}.partial`;
  writeFileSync(partial, dump);
  renameSync(partial, template);
  return database;
}

/**
 * A fresh, migrated database for one test file: PGlite in memory, or a new PostgreSQL database
 * (dropped afterwards) when TEST_DATABASE_URL is set.
 */
export async function freshDatabase(onQuery?: QueryListener): Promise<{ database: DatabaseHandle; url?: string; drop(): Promise<void> }> {
  if (!TEST_DATABASE_URL) return { database: await migratedPglite(onQuery), drop: async () => {} };
  const name = `lede_test_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = withDatabase(TEST_DATABASE_URL, name);
  const database = await openPostgres({ connectionString: url, poolMax: 5, onQuery });
  await database.migrate();
  return { database, url, drop: () => dropDatabase(TEST_DATABASE_URL, name) };
}

export interface TestApp {
  app: FastifyInstance;
  database: DatabaseHandle;
  config: Config;
  /** Creates a key of the given role directly in the database and returns the bearer header. */
  authAs(role: ApiKeyRole, name?: string): Promise<{ authorization: string; id: string; key: string }>;
}

export async function buildTestApp(
  t: TestContext,
  options: { env?: Record<string, string>; onQuery?: QueryListener } = {},
): Promise<TestApp> {
  const config = configFrom({ LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', RESPONSE_VALIDATION: 'true', ...options.env });
  const { database, drop } = await freshDatabase(options.onQuery);
  const app = await buildApp(config, { database, logger: pino({ level: 'silent' }) });
  t.teardown(async () => {
    await app.close(); // closes the database too
    await drop();
  });
  await app.ready();
  const keys = keysService(database.db);
  return {
    app,
    database,
    config,
    async authAs(role, name = `${role} key`) {
      const { key, record } = await keys.create({ role, name });
      return { authorization: `Bearer ${key}`, id: record.id, key };
    },
  };
}

export function json<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return JSON.parse(response.body) as T;
}
