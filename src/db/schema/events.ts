import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The change log (docs/adr/0012-event-log-commit-order.md). Ids increase in commit order: a
 * statement-level trigger (migration 0006) takes a transaction-scoped advisory lock before any row
 * is numbered, so the next writer numbers its events only after this one has committed.
 */
export const events = pgTable(
  'events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
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
    index('events_public_idx').on(table.id).where(sql`${table.public}`),
  ],
);

/** One row: the newest id the retention sweep has deleted (an `after` below it missed events). */
export const eventLogState = pgTable('event_log_state', {
  singleton: boolean('singleton').primaryKey().default(true),
  sweptThrough: bigint('swept_through', { mode: 'number' }).notNull().default(0),
});
