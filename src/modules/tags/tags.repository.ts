import { and, asc, eq, getTableColumns, gt, ilike, inArray, isNull, like, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { markDeleted } from '../../db/content-clock.js';
import { articles, articleTags } from '../../db/schema/articles.js';
import { tags } from '../../db/schema/tags.js';
import { escapeLike } from '../../lib/like.js';

export type TagRow = typeof tags.$inferSelect;
export type TagWithCount = TagRow & { articleCount: number };

/**
 * The number of articles carrying each tag that the reader may see. For anonymous readers the
 * link's own copy of the publication time decides (it is null unless the article is published or
 * scheduled), so the count never needs the articles table.
 */
function articleCount(countsUnpublished: boolean) {
  const visible = countsUnpublished
    ? sql`exists (select 1 from ${articles} where ${articles.id} = ${articleTags.articleId} and ${articles.deletedAt} is null)`
    : sql`${articleTags.publishedAt} <= now()`;
  return sql<number>`(select count(*) from ${articleTags} where ${articleTags.tagId} = ${tags.id} and ${visible})`.mapWith(Number);
}

const tagColumns = (countsUnpublished: boolean) => ({ ...getTableColumns(tags), articleCount: articleCount(countsUnpublished) });

export async function insertTag(
  db: Database,
  values: { slug: string; name: string; description: string | null; locale: string },
): Promise<TagRow> {
  const [row] = await db.insert(tags).values(values).returning();
  if (!row) throw new Error('insert into tags returned no row');
  return row;
}

export async function findTag(db: Database, where: SQL, countsUnpublished: boolean): Promise<TagWithCount | undefined> {
  const [row] = await db.select(tagColumns(countsUnpublished)).from(tags).where(where).limit(1);
  return row;
}

export const byId = (id: string) => eq(tags.id, id);
export const bySlug = (slug: string, locale: string) => and(eq(tags.slug, slug), eq(tags.locale, locale)) as SQL;

/** The locales that have a tag with this slug (by the slug index). */
export async function localesWithSlug(db: Database, slug: string): Promise<string[]> {
  const rows = await db.select({ locale: tags.locale }).from(tags).where(eq(tags.slug, slug)).orderBy(asc(tags.locale));
  return rows.map((row) => row.locale);
}

export async function listTags(
  db: Database,
  options: { q?: string; locale?: string; limit: number; after?: { name: string; id: string }; countsUnpublished: boolean },
): Promise<TagWithCount[]> {
  const conditions: SQL[] = [];
  if (options.locale) conditions.push(eq(tags.locale, options.locale));
  if (options.q) {
    const prefix = `${escapeLike(options.q)}%`;
    conditions.push(or(ilike(tags.name, prefix), like(tags.slug, prefix.toLowerCase())) as SQL);
  }
  if (options.after) {
    const { name, id } = options.after;
    conditions.push(or(gt(tags.name, name), and(eq(tags.name, name), gt(tags.id, id))) as SQL);
  }
  return db
    .select(tagColumns(options.countsUnpublished))
    .from(tags)
    .where(and(...conditions))
    .orderBy(asc(tags.name), asc(tags.id))
    .limit(options.limit);
}

/**
 * Applies a change only if the row is still at one of the versions the client read. Returns the
 * tag as anonymous readers now see it (live articles counted), for its event: no second read.
 */
export async function updateTagIfVersion(
  db: Database,
  id: string,
  versions: number[],
  changes: Partial<Pick<TagRow, 'slug' | 'name' | 'description' | 'locale'>>,
): Promise<TagWithCount | undefined> {
  if (versions.length === 0) return undefined;
  const [row] = await db
    .update(tags)
    .set({ ...changes, version: sql`${tags.version} + 1`, updatedAt: sql`now()` })
    .where(and(eq(tags.id, id), inArray(tags.version, versions)))
    .returning(tagColumns(false));
  return row;
}

/**
 * The tag's version, its row held for the transaction: an article taking the tag meanwhile (its
 * link's foreign key locks the row in key-share mode) waits for the delete, and then fails on it.
 */
export async function lockTag(db: Database, id: string): Promise<number | undefined> {
  const [row] = await db.select({ version: tags.version }).from(tags).where(eq(tags.id, id)).for('update');
  return row?.version;
}

/** How many articles (not deleted) carry the tag; with `notInLocale`, those of other locales only. */
export async function articlesCarrying(db: Database, id: string, notInLocale?: string): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)`.mapWith(Number) })
    .from(articleTags)
    .innerJoin(articles, eq(articles.id, articleTags.articleId))
    .where(and(eq(articleTags.tagId, id), isNull(articles.deletedAt), notInLocale === undefined ? undefined : ne(articles.locale, notInLocale)));
  return row?.count ?? 0;
}

export async function deleteTagIfVersion(db: Database, id: string, versions: number[]): Promise<boolean> {
  if (versions.length === 0) return false;
  const deleted = await db
    .delete(tags)
    .where(and(eq(tags.id, id), inArray(tags.version, versions)))
    .returning({ id: tags.id });
  if (deleted.length === 0) return false;
  await markDeleted(db, 'tag');
  return true;
}

export async function tagExists(db: Database, id: string): Promise<boolean> {
  const [row] = await db.select({ id: tags.id }).from(tags).where(eq(tags.id, id)).limit(1);
  return row !== undefined;
}
