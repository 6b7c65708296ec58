import { sql } from 'drizzle-orm';
import {
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { apiKeys } from './keys.js';
import { tags } from './tags.js';

export const ARTICLE_STATUSES = ['draft', 'scheduled', 'published', 'archived'] as const;
export type ArticleStatus = (typeof ARTICLE_STATUSES)[number];

export const ARTICLE_LABELS = ['exclusive', 'opinion', 'review', 'updated', 'breaking', 'analysis', 'interview'] as const;
export type ArticleLabel = (typeof ARTICLE_LABELS)[number];

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' });
const time = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

export const articles = pgTable(
  'articles',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    locale: text('locale').notNull(),
    slug: text('slug').notNull(),
    status: text('status', { enum: ARTICLE_STATUSES }).notNull().default('draft'),
    title: text('title').notNull(),
    lead: text('lead'),
    body: jsonb('body').notNull().default(sql`'[]'::jsonb`),
    label: text('label', { enum: ARTICLE_LABELS }),
    section: text('section'),
    byline: text('byline'),
    sources: jsonb('sources').notNull().default(sql`'[]'::jsonb`),
    coverImage: jsonb('cover_image'),
    /** The article's page when it is not where SITE_ARTICLE_PATH puts it (e.g. a syndicated story). */
    canonicalUrl: text('canonical_url'),
    publishedAt: time('published_at'),
    createdAt: time('created_at').notNull().defaultNow(),
    updatedAt: time('updated_at').notNull().defaultNow(),
    deletedAt: time('deleted_at'),
    version: integer('version').notNull().default(1),
    /** Full-text document (title, lead, body text), written with every change. */
    search: tsvector('search'),
  },
  (table) => [
    // A deleted article frees its slug.
    uniqueIndex('articles_locale_slug_key').on(table.locale, table.slug).where(sql`${table.deletedAt} is null`),
    // A slug looked up without a locale and missing in the default one: which locales have it.
    index('articles_slug_idx').on(table.slug).where(sql`${table.deletedAt} is null`),
    // The public list: newest published first, per locale. Indexes are ascending: a backward scan
    // serves `order by … desc`, whose NULLS FIRST a DESC NULLS LAST index would not match.
    index('articles_public_idx')
      .on(table.locale, table.publishedAt, table.id)
      .where(sql`${table.deletedAt} is null and ${table.status} in ('published', 'scheduled')`),
    index('articles_published_idx')
      .on(table.publishedAt, table.id)
      .where(sql`${table.deletedAt} is null and ${table.status} in ('published', 'scheduled')`),
    // Scheduled articles not yet announced (ADR 13): few, found without walking the live ones.
    index('articles_scheduled_idx').on(table.publishedAt).where(sql`${table.status} = 'scheduled' and ${table.deletedAt} is null`),
    index('articles_created_idx').on(table.createdAt, table.id).where(sql`${table.deletedAt} is null`),
    index('articles_search_idx').using('gin', table.search),
    // The newest change of any article (drafts and deletions too): the feeds' Last-Modified.
    index('articles_updated_idx').on(table.updatedAt),
    check('articles_status_check', sql`${table.status} in ('draft', 'scheduled', 'published', 'archived')`),
    check(
      'articles_label_check',
      sql`${table.label} is null or ${table.label} in ('exclusive', 'opinion', 'review', 'updated', 'breaking', 'analysis', 'interview')`,
    ),
    check('articles_published_at_check', sql`${table.status} not in ('published', 'scheduled') or ${table.publishedAt} is not null`),
  ],
);

/** Slugs an article had before: they answer with a redirect to its current slug. */
export const articleSlugRedirects = pgTable(
  'article_slug_redirects',
  {
    locale: text('locale').notNull(),
    slug: text('slug').notNull(),
    articleId: uuid('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    createdAt: time('created_at').notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.locale, table.slug] }),
    index('article_slug_redirects_article_idx').on(table.articleId),
    // A former slug looked up without a locale.
    index('article_slug_redirects_slug_idx').on(table.slug),
  ],
);

/**
 * An article's ordered tags. `published_at` repeats the article's, kept in step by every write,
 * so "latest articles with this tag" is one index range instead of a join over all of them.
 */
export const articleTags = pgTable(
  'article_tags',
  {
    articleId: uuid('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    tagId: uuid('tag_id')
      .notNull()
      .references(() => tags.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    publishedAt: time('published_at'),
  },
  (table) => [
    primaryKey({ columns: [table.articleId, table.tagId] }),
    index('article_tags_tag_published_idx').on(table.tagId, table.publishedAt, table.articleId),
  ],
);

/** "Read also": an article's ordered related articles. */
export const articleRelated = pgTable(
  'article_related',
  {
    articleId: uuid('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    relatedId: uuid('related_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.articleId, table.relatedId] }),
    index('article_related_related_idx').on(table.relatedId),
  ],
);

/** A full snapshot of every saved version. Revisions outlive the article's deletion. */
export const articleRevisions = pgTable(
  'article_revisions',
  {
    articleId: uuid('article_id')
      .notNull()
      .references(() => articles.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    snapshot: jsonb('snapshot').notNull(),
    savedAt: time('saved_at').notNull().defaultNow(),
    savedByKeyId: uuid('saved_by_key_id').references(() => apiKeys.id, { onDelete: 'set null' }),
    savedByName: text('saved_by_name').notNull(),
  },
  (table) => [primaryKey({ columns: [table.articleId, table.version] })],
);
