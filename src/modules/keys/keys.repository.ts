import { and, desc, eq, isNull, lt, or } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { type ApiKeyRole, apiKeys } from '../../db/schema/keys.js';

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export async function insertKey(
  db: Database,
  values: { name: string; role: ApiKeyRole; prefix: string; secretHash: string },
): Promise<ApiKeyRow> {
  const [row] = await db.insert(apiKeys).values(values).returning();
  if (!row) throw new Error('insert into api_keys returned no row');
  return row;
}

export async function findKeyByPrefix(db: Database, prefix: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.prefix, prefix)).limit(1);
  return row;
}

export async function findKeyById(db: Database, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
  return row;
}

/** Newest first, keyset on (createdAt, id). */
export async function listKeys(
  db: Database,
  options: { limit: number; after?: { createdAt: Date; id: string } },
): Promise<ApiKeyRow[]> {
  const after = options.after;
  return db
    .select()
    .from(apiKeys)
    .where(
      after
        ? or(lt(apiKeys.createdAt, after.createdAt), and(eq(apiKeys.createdAt, after.createdAt), lt(apiKeys.id, after.id)))
        : undefined,
    )
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(options.limit);
}

export async function revokeKey(db: Database, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  return row;
}
