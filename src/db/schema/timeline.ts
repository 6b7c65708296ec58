import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { ARTICLE_LABELS, articles } from './articles.js';

const time = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

/**
 * The latest-news stream. An entry either stands alone (a flash line, maybe with a url) or follows
 * an article: its title and label are the article's unless set here.
 */
export const timelineEntries = pgTable(
  'timeline_entries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    occurredAt: time('occurred_at').notNull(),
    locale: text('locale').notNull(),
    /** Null on an article's entry: the article's title is shown. */
    title: text('title'),
    label: text('label', { enum: ARTICLE_LABELS }),
    articleId: uuid('article_id').references(() => articles.id, { onDelete: 'cascade' }),
    url: text('url'),
    /**
     * From when anonymous readers see the entry: creation time for a flash line; for an article's
     * entry, the article's publication time while it is published or scheduled, else null (hidden).
     * Kept in step by every article write, so reads need no join to decide visibility.
     */
    liveAt: time('live_at'),
    createdAt: time('created_at').notNull().defaultNow(),
    updatedAt: time('updated_at').notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (table) => [
    // Ascending on purpose: scanned backwards these serve `order by occurred_at desc, id desc`
    // (DESC means NULLS FIRST), which a DESC NULLS LAST index could not.
    index('timeline_entries_occurred_idx').on(table.occurredAt, table.id),
    index('timeline_entries_locale_occurred_idx').on(table.locale, table.occurredAt, table.id),
    index('timeline_entries_article_idx').on(table.articleId),
    // The newest entry change and the newest go-live: the timeline feed's Last-Modified.
    index('timeline_entries_updated_idx').on(table.updatedAt),
    index('timeline_entries_live_idx').on(table.liveAt),
    check('timeline_entries_title_check', sql`${table.articleId} is not null or ${table.title} is not null`),
    check(
      'timeline_entries_label_check',
      sql`${table.label} is null or ${table.label} in ('exclusive', 'opinion', 'review', 'updated', 'breaking', 'analysis', 'interview')`,
    ),
  ],
);
