import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Rate-limit counters, one row per caller (`key:<id>` or `ip:<address>`), in fixed windows. They
 * live in the database so that every process on it counts against the same limit. Throwaway data:
 * the table is UNLOGGED (no WAL per request; emptied after a crash, which only forgives callers).
 */
export const rateLimits = pgTable(
  'rate_limits',
  {
    bucket: text('bucket').primaryKey(),
    windowStart: timestamp('window_start', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
    hits: integer('hits').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
  },
  (table) => [index('rate_limits_expires_idx').on(table.expiresAt)],
);
