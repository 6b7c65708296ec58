import { sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';

/**
 * When, by this process's clock, anonymous content next changes with no write: the earliest
 * publication time still ahead (a scheduled article going live, with its timeline entries and tag
 * links, which carry the same time). Null when nothing is scheduled. Served by the partial index
 * on live-or-scheduled articles' published_at.
 *
 * The database clock decides visibility, so the answer is measured against it: the time left is
 * added to the local time taken before the query, which errs early, never late.
 */
export async function nextScheduledChange(db: Database): Promise<number | null> {
  const askedAt = Date.now();
  const result = await db.execute(sql`
    select extract(epoch from (min(published_at) - now())) * 1000 as ms_left
    from articles
    where deleted_at is null and status in ('published', 'scheduled') and published_at > now()
  `);
  const msLeft = (result as unknown as { rows: { ms_left: string | number | null }[] }).rows[0]?.ms_left;
  return msLeft === null || msLeft === undefined ? null : askedAt + Number(msLeft);
}
