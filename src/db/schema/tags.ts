import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

export const tags = pgTable(
  'tags',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull(),
    name: text('name').notNull(),
    description: text('description'),
    locale: text('locale').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (table) => [
    // Slugs are unique per locale; this index is also what makes a racing duplicate fail with 23505.
    uniqueIndex('tags_locale_slug_key').on(table.locale, table.slug),
    // A slug looked up without a locale and missing in the default one: which locales have it.
    index('tags_slug_idx').on(table.slug),
    // The list is ordered by (name, id); this index serves it and the name-prefix search.
    index('tags_locale_name_id_idx').on(table.locale, table.name, table.id),
    index('tags_name_id_idx').on(table.name, table.id),
    // The newest tag change: the feeds' Last-Modified (feeds show tag names).
    index('tags_updated_idx').on(table.updatedAt),
    check('tags_version_positive', sql`${table.version} > 0`),
  ],
);
