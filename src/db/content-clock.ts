import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './database.js';
import { deletionMarks } from './schema/deletions.js';

/*
 * When what a feed shows last changed, for Last-Modified (docs/adr/0010-feed-last-modified.md).
 * It must move forward when something leaves a feed too, or a client asking If-Modified-Since
 * keeps a stale copy: so it is the newest of every article change (drafts and deletions
 * included: conservative), the newest go-live that has happened (scheduled articles go live
 * with no write), every tag change, every hard delete (deletion_marks) and, for the timeline,
 * every entry change and go-live. Each max is one step of an index backwards.
 */
const ARTICLE_PARTS = sql`
  (select max(updated_at) from articles),
  (select max(published_at) from articles
    where deleted_at is null and status in ('published', 'scheduled') and published_at <= now()),
  (select max(updated_at) from tags),
  (select max(deleted_at) from deletion_marks)`;
const TIMELINE_PARTS = sql`,
  (select max(updated_at) from timeline_entries),
  (select max(live_at) from timeline_entries where live_at <= now())`;

export type FeedKind = 'articles' | 'timeline';

/**
 * The clock as milliseconds since the epoch (a number whichever driver runs it: they map
 * timestamps differently). Uncorrelated, so a query selecting it evaluates it once, and from the
 * same snapshot as the rows it returns.
 */
export function contentClockMs(kind: FeedKind): SQL<string | number | null> {
  const parts = kind === 'timeline' ? sql`${ARTICLE_PARTS}${TIMELINE_PARTS}` : ARTICLE_PARTS;
  return sql<string | number | null>`(select round(extract(epoch from greatest(${parts})) * 1000))`;
}

/** Null while the database has nothing of it at all. Never later than now by this process's clock. */
export function clockDate(ms: string | number | null | undefined): Date | null {
  if (ms === null || ms === undefined) return null;
  // HTTP forbids a Last-Modified later than the answer's own date: the database clock may run ahead.
  return new Date(Math.min(Number(ms), Date.now()));
}

/** The clock read on its own (a feed with no rows to carry it). */
export async function readContentClock(db: Database, kind: FeedKind): Promise<Date | null> {
  const result = await db.execute(sql`select ${contentClockMs(kind)} as ms`);
  return clockDate((result as unknown as { rows: { ms: string | number | null }[] }).rows[0]?.ms);
}

/**
 * Records a hard delete of a row of `kind` (in the deleting transaction). Gone rows date nothing:
 * this mark is what moves the clock past the delete.
 */
export async function markDeleted(db: Database, kind: 'tag' | 'timeline_entry'): Promise<void> {
  await db
    .insert(deletionMarks)
    .values({ kind, deletedAt: sql`now()` })
    .onConflictDoUpdate({ target: deletionMarks.kind, set: { deletedAt: sql`now()` } });
}
