import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * When a row of each kind was last deleted for good (tags and timeline entries are; articles are
 * marked deleted and keep their updated_at). With the tables' newest updated_at this dates the
 * latest change to a feed, including one where something left it. Deletions are rare, so the
 * single row per kind costs writers no contention worth measuring.
 */
export const deletionMarks = pgTable('deletion_marks', {
  kind: text('kind', { enum: ['tag', 'timeline_entry'] }).primaryKey(),
  deletedAt: timestamp('deleted_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
});
