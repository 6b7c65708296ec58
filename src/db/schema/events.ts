import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * The change log (docs/adr/0012-event-log-commit-order.md, 0017). `id` increases in commit order:
 * a write hands its events to its transaction (`events_append`, migration 0011), which writes them
 * with their ids while it commits, under a transaction-scoped advisory lock, so the next writer
 * numbers its events only after this one has committed. A row inserted directly is numbered at
 * commit too (migration 0010); its id is null only until then.
 */
export const events = pgTable(
  'events',
  {
    /** The row's key, in insertion order: not commit order, so never shown. */
    rowId: bigserial('row_id', { mode: 'number' }).primaryKey(),
    id: bigint('id', { mode: 'number' }),
    type: text('type').notNull(),
    /** Anonymous readers (and their streams and feeds) see public types only. */
    public: boolean('public').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
    /** What the event's readers may see of the resource, and the surrogate keys to purge. */
    data: jsonb('data').notNull(),
  },
  (table) => [
    // The retention sweep deletes from the oldest end.
    index('events_occurred_idx').on(table.occurredAt),
    uniqueIndex('events_id_key').on(table.id),
    index('events_public_idx').on(table.id).where(sql`${table.public}`),
  ],
);

/** One row: the newest id the retention sweep has deleted (an `after` below it missed events). */
export const eventLogState = pgTable('event_log_state', {
  singleton: boolean('singleton').primaryKey().default(true),
  sweptThrough: bigint('swept_through', { mode: 'number' }).notNull().default(0),
});
