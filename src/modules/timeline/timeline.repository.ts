import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { type Bind, inline, inlineLimit, limitBucket, placeholder, preparedStatements } from '../../db/prepared.js';
import { markDeleted } from '../../db/content-clock.js';
import { articles } from '../../db/schema/articles.js';
import { timelineEntries } from '../../db/schema/timeline.js';
import { allTagsCondition, tagFilterValues, tagsShape } from '../articles/tag-filter.js';
import type { Viewer } from '../articles/visibility.js';
import { linkPublishedAt } from '../articles/visibility.js';

export type EntryRow = typeof timelineEntries.$inferSelect;
/** The article an entry follows: what it shows of it, and what its page address is made of. */
export interface EntryArticle {
  id: string;
  slug: string;
  title: string;
  label: string | null;
  locale: string;
  section: string | null;
  publishedAt: Date | null;
  canonicalUrl: string | null;
}

export type EntryWithArticle = EntryRow & { article: EntryArticle | null };

/**
 * Anonymous readers see entries whose time has come; keys also see scheduled ones, and entries of
 * drafts by id. A deleted article's entries are seen by no one (its writes keep `live_at` null for
 * anonymous readers; keys are checked against the joined article itself).
 */
function entryVisibleTo(viewer: Viewer): SQL {
  return viewer.seesUnpublished
    ? sql`${timelineEntries.liveAt} is not null and ${notOfDeletedArticle}`
    : sql`${timelineEntries.liveAt} <= now()`;
}

/** True for flash entries too: their joined article columns are null. */
const notOfDeletedArticle = sql`${articles.deletedAt} is null`;

const selection = {
  entry: timelineEntries,
  articleSlug: articles.slug,
  articleTitle: articles.title,
  articleLabel: articles.label,
  articleLocale: articles.locale,
  articleSection: articles.section,
  articlePublishedAt: articles.publishedAt,
  articleCanonicalUrl: articles.canonicalUrl,
};

interface SelectedRow {
  entry: EntryRow;
  articleSlug: string | null;
  articleTitle: string | null;
  articleLabel: string | null;
  articleLocale: string | null;
  articleSection: string | null;
  articlePublishedAt: Date | null;
  articleCanonicalUrl: string | null;
}

function withArticle(row: SelectedRow): EntryWithArticle {
  const article =
    row.entry.articleId && row.articleSlug !== null && row.articleTitle !== null && row.articleLocale !== null
      ? {
          id: row.entry.articleId,
          slug: row.articleSlug,
          title: row.articleTitle,
          label: row.articleLabel,
          locale: row.articleLocale,
          section: row.articleSection,
          publishedAt: row.articlePublishedAt,
          canonicalUrl: row.articleCanonicalUrl,
        }
      : null;
  return { ...row.entry, article };
}

export interface TimelineQuery {
  viewer: Viewer;
  locale?: string;
  label?: string;
  tagSlugs?: string[];
  before?: Date;
  after?: Date;
  limit: number;
  cursor?: { occurredAt: Date; id: string };
}


/**
 * One query per page, walking the (occurred_at, id) index from the cursor; the article join is by
 * primary key. Exposed unexecuted so tests can EXPLAIN exactly what runs.
 */
export function entriesQuery(db: Database, query: TimelineQuery, bind: Bind = inline) {
  const conditions: SQL[] = [entryVisibleTo(query.viewer)];
  if (query.locale) conditions.push(sql`${timelineEntries.locale} = ${bind('locale', query.locale)}`);
  if (query.label) conditions.push(sql`coalesce(${timelineEntries.label}, ${articles.label}) = ${bind('label', query.label)}`);
  if (query.before) conditions.push(sql`${timelineEntries.occurredAt} < ${bind('before', query.before.toISOString())}::timestamptz`);
  if (query.after) conditions.push(sql`${timelineEntries.occurredAt} > ${bind('after', query.after.toISOString())}::timestamptz`);
  const withTags = allTagsCondition(timelineEntries.articleId, query.tagSlugs, bind);
  if (withTags) conditions.push(withTags);
  if (query.cursor) {
    const { occurredAt, id } = query.cursor;
    conditions.push(
      sql`(${timelineEntries.occurredAt}, ${timelineEntries.id}) < (${bind('cursorAt', occurredAt.toISOString())}::timestamptz, ${bind('cursorId', id)}::uuid)`,
    );
  }
  return db
    .select(selection)
    .from(timelineEntries)
    .leftJoin(articles, eq(articles.id, timelineEntries.articleId))
    .where(and(...conditions))
    .orderBy(desc(timelineEntries.occurredAt), desc(timelineEntries.id))
    .limit(inlineLimit(query.limit));
}

function placeholderValues(query: TimelineQuery): Record<string, unknown> {
  const values: Record<string, unknown> = {
    locale: query.locale,
    label: query.label,
    before: query.before?.toISOString(),
    after: query.after?.toISOString(),
    cursorAt: query.cursor?.occurredAt.toISOString(),
    cursorId: query.cursor?.id,
  };
  return { ...values, ...tagFilterValues(query.tagSlugs) };
}

/** What makes two queries the same statement with different values. */
function shapeOf(query: TimelineQuery): string {
  const has = (value: unknown) => (value === undefined ? '0' : '1');
  return [
    query.viewer.seesUnpublished ? 'e' : 'a',
    has(query.locale),
    has(query.label),
    has(query.before),
    has(query.after),
    has(query.cursor),
    tagsShape(query.tagSlugs),
    query.limit,
  ].join('');
}

type PreparedPage = ReturnType<ReturnType<typeof entriesQuery>['prepare']>;
const preparedPages = preparedStatements<PreparedPage>('lede_timeline');

export async function listEntries(db: Database, query: TimelineQuery): Promise<EntryWithArticle[]> {
  const bucketed = { ...query, limit: limitBucket(query.limit) };
  const prepared = preparedPages(db, shapeOf(bucketed), (name) => entriesQuery(db, bucketed, placeholder).prepare(name));
  const rows = await prepared.execute(placeholderValues(query));
  return (rows.length > query.limit ? rows.slice(0, query.limit) : rows).map(withArticle);
}

export async function findEntry(db: Database, id: string, viewer: Viewer): Promise<EntryWithArticle | undefined> {
  const [row] = await db
    .select(selection)
    .from(timelineEntries)
    .leftJoin(articles, eq(articles.id, timelineEntries.articleId))
    .where(and(eq(timelineEntries.id, id), viewer.seesUnpublished ? notOfDeletedArticle : entryVisibleTo(viewer)))
    .limit(1);
  return row && withArticle(row);
}

export async function insertEntry(db: Database, values: typeof timelineEntries.$inferInsert): Promise<EntryRow> {
  const [row] = await db.insert(timelineEntries).values(values).returning();
  if (!row) throw new Error('insert into timeline_entries returned no row');
  return row;
}

export async function updateEntryIfVersion(
  db: Database,
  id: string,
  versions: number[],
  changes: Partial<Pick<EntryRow, 'occurredAt' | 'title' | 'label' | 'url' | 'locale'>>,
): Promise<EntryRow | undefined> {
  if (versions.length === 0) return undefined;
  const [row] = await db
    .update(timelineEntries)
    .set({ ...changes, version: sql`${timelineEntries.version} + 1`, updatedAt: sql`now()` })
    .where(and(eq(timelineEntries.id, id), inArray(timelineEntries.version, versions)))
    .returning();
  return row;
}

/** The deleted entry (its `liveAt` tells whether readers saw it), or undefined if none was at those versions. */
export async function deleteEntryIfVersion(db: Database, id: string, versions: number[]): Promise<EntryRow | undefined> {
  if (versions.length === 0) return undefined;
  const [deleted] = await db
    .delete(timelineEntries)
    .where(and(eq(timelineEntries.id, id), inArray(timelineEntries.version, versions)))
    .returning();
  if (deleted) await markDeleted(db, 'timeline_entry');
  return deleted;
}

/** Every entry that follows the article. */
export async function entriesOfArticle(db: Database, articleId: string): Promise<EntryRow[]> {
  return db.select().from(timelineEntries).where(eq(timelineEntries.articleId, articleId));
}

export async function entryExists(db: Database, id: string): Promise<boolean> {
  const [row] = await db.select({ id: timelineEntries.id }).from(timelineEntries).where(eq(timelineEntries.id, id)).limit(1);
  return row !== undefined;
}

type ArticleState = { id: string; locale: string; status: string; publishedAt: Date | null; deletedAt: Date | null };

/**
 * Keeps an article's entries in step with it (visible from its publication time while it is
 * published or scheduled, hidden otherwise), and makes its entry when asked and none exists, in
 * one statement (a write's round trips are its cost). Returns the article's entries afterwards.
 */
export async function syncArticleEntries(db: Database, article: ArticleState, options: { create: boolean }): Promise<EntryRow[]> {
  const liveAt = linkPublishedAt(article)?.toISOString() ?? null;
  const result = await db.execute(sql`
    with updated as (
      update ${timelineEntries} set live_at = ${liveAt}::timestamptz, occurred_at = coalesce(${liveAt}::timestamptz, occurred_at)
      where article_id = ${article.id}
      returning *
    ), inserted as (
      insert into ${timelineEntries} (occurred_at, live_at, locale, article_id)
      select ${liveAt}::timestamptz, ${liveAt}::timestamptz, ${article.locale}, ${article.id}::uuid
      where ${options.create}::boolean and ${liveAt}::timestamptz is not null and not exists (select 1 from updated)
      returning *
    )
    select * from updated union all select * from inserted
  `);
  return (result as unknown as { rows: RawEntryRow[] }).rows.map(entryFromRaw);
}

/** An entry as a raw statement returns it: column names, and times as the driver parses them. */
interface RawEntryRow {
  id: string;
  occurred_at: Date | string;
  locale: string;
  title: string | null;
  label: EntryRow['label'];
  article_id: string | null;
  url: string | null;
  live_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
  version: number;
}

function entryFromRaw(row: RawEntryRow): EntryRow {
  return {
    id: row.id,
    occurredAt: new Date(row.occurred_at),
    locale: row.locale,
    title: row.title,
    label: row.label,
    articleId: row.article_id,
    url: row.url,
    liveAt: row.live_at === null ? null : new Date(row.live_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    version: Number(row.version),
  };
}
