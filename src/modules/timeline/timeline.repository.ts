import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { type Bind, inline, limitBucket, placeholder, preparedStatements } from '../../db/prepared.js';
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
    .limit(query.limit);
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

export async function deleteEntryIfVersion(db: Database, id: string, versions: number[]): Promise<boolean> {
  if (versions.length === 0) return false;
  const deleted = await db
    .delete(timelineEntries)
    .where(and(eq(timelineEntries.id, id), inArray(timelineEntries.version, versions)))
    .returning({ id: timelineEntries.id });
  if (deleted.length === 0) return false;
  await markDeleted(db, 'timeline_entry');
  return true;
}

export async function entryExists(db: Database, id: string): Promise<boolean> {
  const [row] = await db.select({ id: timelineEntries.id }).from(timelineEntries).where(eq(timelineEntries.id, id)).limit(1);
  return row !== undefined;
}

type ArticleState = { id: string; locale: string; status: string; publishedAt: Date | null; deletedAt: Date | null };

/**
 * Keeps an article's entries in step with it: visible from its publication time while it is
 * published or scheduled, hidden otherwise. On publish, with `create`, makes the entry if it has none.
 */
/**
 * Keeps an article's entries in step with it, and makes its entry when asked and none exists, in
 * one statement (a write's round trips are its cost). Returns whether the timeline has entries of
 * the article afterwards.
 */
export async function syncArticleEntries(db: Database, article: ArticleState, options: { create: boolean }): Promise<boolean> {
  const liveAt = linkPublishedAt(article)?.toISOString() ?? null;
  const result = await db.execute(sql`
    with updated as (
      update ${timelineEntries} set live_at = ${liveAt}::timestamptz, occurred_at = coalesce(${liveAt}::timestamptz, occurred_at)
      where article_id = ${article.id}
      returning id
    ), inserted as (
      insert into ${timelineEntries} (occurred_at, live_at, locale, article_id)
      select ${liveAt}::timestamptz, ${liveAt}::timestamptz, ${article.locale}, ${article.id}::uuid
      where ${options.create}::boolean and ${liveAt}::timestamptz is not null and not exists (select 1 from updated)
      returning id
    )
    select exists (select 1 from updated) or exists (select 1 from inserted) as in_timeline
  `);
  return (result as unknown as { rows: { in_timeline: boolean }[] }).rows[0]?.in_timeline ?? false;
}
