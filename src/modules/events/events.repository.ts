import { and, asc, eq, gt, inArray, lt, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { eventLogState, events } from '../../db/schema/events.js';
import type { EventType } from '../../events/event-types.js';

export interface EventRow {
  id: number;
  type: string;
  occurredAt: Date;
  data: unknown;
  /** Whether anonymous readers may see it. */
  public: boolean;
}

/** Events after `after`, oldest first, of the given types, public ones only unless `all`. */
export async function eventsAfter(db: Database, options: { after: number; types: EventType[]; all: boolean; limit: number }): Promise<EventRow[]> {
  if (options.types.length === 0) return [];
  const rows = await db
    .select({ id: events.id, type: events.type, occurredAt: events.occurredAt, data: events.data, public: events.public })
    .from(events)
    .where(and(gt(events.id, options.after), inArray(events.type, options.types), options.all ? undefined : eq(events.public, true)))
    .orderBy(asc(events.id))
    .limit(options.limit);
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}

/** The newest id the retention sweep has removed: an `after` below it has missed events. */
export async function sweptThrough(db: Database): Promise<number> {
  const [row] = await db.select({ sweptThrough: eventLogState.sweptThrough }).from(eventLogState);
  return Number(row?.sweptThrough ?? 0);
}

/**
 * Removes events older than the retention, in batches so a sweep never holds locks for long, and
 * records the newest id removed. Returns how many went.
 */
export async function sweepExpired(db: Database, retentionDays: number, batch = 5_000): Promise<number> {
  return db.transaction(async (tx) => {
    const cutoff = sql`now() - make_interval(days => ${retentionDays})`;
    const [newest] = await tx
      .select({ id: events.id })
      .from(events)
      .where(lt(events.occurredAt, cutoff))
      .orderBy(sql`${events.id} desc`)
      .limit(1);
    if (!newest) return 0;
    const deleted = await tx.execute(sql`
      delete from ${events} where ${events.id} in (
        select ${events.id} from ${events} where ${events.id} <= ${newest.id} order by ${events.id} limit ${batch}
      ) returning ${events.id}`);
    const ids = (deleted as unknown as { rows: { id: string | number }[] }).rows.map((row) => Number(row.id));
    const highest = Math.max(...ids);
    await tx
      .update(eventLogState)
      .set({ sweptThrough: sql`greatest(${eventLogState.sweptThrough}, ${highest})` })
      .where(eq(eventLogState.singleton, true));
    return ids.length;
  });
}

/** The newest event id readers can see (0 for an empty log). */
export async function newestEventId(db: Database): Promise<number> {
  const [row] = await db.select({ id: sql<string | null>`max(${events.id})` }).from(events);
  return Number(row?.id ?? 0);
}
