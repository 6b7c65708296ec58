import { and, desc, sql, type SQL } from 'drizzle-orm';
import { contentClockMs } from '../../db/content-clock.js';
import type { Database } from '../../db/database.js';
import { type Bind, inlineLimit, limitBucket, placeholder, preparedStatements } from '../../db/prepared.js';
import { articles, articleTags, type ArticleStatus } from '../../db/schema/articles.js';
import { tags } from '../../db/schema/tags.js';
import { articleColumns, type ArticleRow, searchQuery, type TagRef, tagsOfArticles } from './articles.repository.js';
import type { Block } from './blocks.js';
import { allTagsCondition, distinctTags, tagFilterValues, tagsShape } from './tag-filter.js';
import { liveCondition, type Viewer, visibleTo } from './visibility.js';

/*
 * Article lists and feeds: one prepared statement per query shape, the general query or, for an
 * anonymous one-tag list, a walk of the tag's links; then the page's tags in a second statement.
 * Each article's tags as a correlated json_agg in the page's statement cost 1.8 ms of a 1.9 ms
 * page (PostgreSQL hashed the whole tags table again for every row); the page alone took
 * 0.03 ms and its tags in one statement 0.17 ms (EXPLAIN ANALYZE, 100,000 articles, 200 tags).
 */

export interface ListOptions {
  viewer: Viewer;
  locale?: string;
  status?: ArticleStatus;
  tagSlugs?: string[];
  section?: string;
  label?: string;
  q?: string;
  publishedAfter?: Date;
  publishedBefore?: Date;
  limit: number;
  /**
   * Feeds need the body, and the content clock (their Last-Modified) read in the same statement,
   * so it dates exactly the rows returned; list pages need neither.
   */
  includeBody?: boolean;
  /** Sort key of the last row seen: [rank (only with q), sortAt, id]. */
  after?: { rank?: string; sortAt: Date; id: string };
}

export type ArticleListRow = Omit<ArticleRow, 'body' | 'sources'> & {
  sortAt: Date;
  rank: string | null;
  body?: Block[];
  tags: TagRef[];
  /** With includeBody: the content clock (src/db/content-clock.ts), the same on every row. */
  clockMs?: string | number | null;
};

const feedColumns = () => ({ body: articles.body, clockMs: contentClockMs('articles') });

function listQuery(db: Database, options: ListOptions, bind: Bind) {
  const { body: _body, sources: _sources, ...summaryColumns } = articleColumns;
  // Anonymous lists only hold live articles, whose publishedAt is set; editors' lists include
  // drafts, which sort by when they were created.
  const sortAt = options.viewer.seesUnpublished
    ? sql<Date>`coalesce(${articles.publishedAt}, ${articles.createdAt})`.mapWith(articles.publishedAt)
    : sql<Date>`${articles.publishedAt}`.mapWith(articles.publishedAt);
  const search = options.q ? searchQuery(bind('q', options.q) as string) : null;
  const rank = search ? sql<string>`round(ts_rank(${articles.search}, ${search})::numeric, 6)::text` : sql<null>`null`;

  const conditions: SQL[] = [visibleTo(options.viewer)];
  if (options.locale) conditions.push(sql`${articles.locale} = ${bind('locale', options.locale)}`);
  if (options.status === 'published') conditions.push(liveCondition());
  else if (options.status === 'scheduled') conditions.push(sql`${articles.status} = 'scheduled' and ${articles.publishedAt} > now()`);
  else if (options.status) conditions.push(sql`${articles.status} = ${bind('status', options.status)}`);
  if (options.section) conditions.push(sql`${articles.section} = ${bind('section', options.section)}`);
  if (options.label) conditions.push(sql`${articles.label} = ${bind('label', options.label)}`);
  if (options.publishedAfter) conditions.push(sql`${articles.publishedAt} > ${bind('publishedAfter', options.publishedAfter.toISOString())}`);
  if (options.publishedBefore) conditions.push(sql`${articles.publishedAt} < ${bind('publishedBefore', options.publishedBefore.toISOString())}`);
  const withTags = allTagsCondition(articles.id, options.tagSlugs, bind, articles.locale);
  if (withTags) conditions.push(withTags);
  if (search) conditions.push(sql`${articles.search} @@ ${search}`);
  const after = options.after;
  if (after) {
    const afterTime = bind('afterAt', after.sortAt.toISOString());
    const afterId = bind('afterId', after.id);
    conditions.push(
      search
        ? sql`(${rank}::numeric, ${sortAt}, ${articles.id}) < (${bind('afterRank', after.rank ?? '0')}::numeric, ${afterTime}::timestamptz, ${afterId}::uuid)`
        : sql`(${sortAt}, ${articles.id}) < (${afterTime}::timestamptz, ${afterId}::uuid)`,
    );
  }
  const order = search ? [desc(sql`${rank}::numeric`), desc(sortAt), desc(articles.id)] : [desc(sortAt), desc(articles.id)];
  return db
    .select({ ...summaryColumns, ...(options.includeBody ? feedColumns() : {}), sortAt, rank })
    .from(articles)
    .where(and(...conditions))
    .orderBy(...order)
    .limit(inlineLimit(options.limit));
}

/**
 * An anonymous list of one tag's articles (no search, no other filter but locale) walks that tag's
 * links newest first: the link table carries the publication time of live and scheduled articles
 * (null otherwise) under an index on (tag_id, published_at, article_id), so a page reads its own
 * rows however rare the tag is among recent articles. The general query would walk every recent
 * article and test each for the tag. One lateral walk per tag with the slug (one per locale).
 */
export function usesTagLinks(options: ListOptions): boolean {
  return (
    !options.viewer.seesUnpublished &&
    distinctTags(options.tagSlugs).length === 1 &&
    !options.q &&
    (options.status === undefined || options.status === 'published') &&
    !options.section &&
    !options.label &&
    !options.publishedAfter &&
    !options.publishedBefore
  );
}

function tagLinksQuery(db: Database, options: ListOptions, bind: Bind) {
  const { body: _body, sources: _sources, ...summaryColumns } = articleColumns;
  const tag = db
    .select({ id: tags.id, locale: tags.locale })
    .from(tags)
    .where(and(sql`${tags.slug} = ${bind('tag0', options.tagSlugs?.[0])}`, options.locale ? sql`${tags.locale} = ${bind('locale', options.locale)}` : undefined))
    .as('tag');
  const after = options.after;
  const links = db
    .select({ articleId: sql<string>`article_id`.as('article_id'), linkedAt: sql<Date>`published_at`.as('linked_at') })
    .from(articleTags)
    .where(
      and(
        sql`tag_id = "tag"."id" and published_at <= now()`,
        after
          ? sql`(published_at, article_id) < (${bind('afterAt', after.sortAt.toISOString())}::timestamptz, ${bind('afterId', after.id)}::uuid)`
          : undefined,
      ),
    )
    .orderBy(sql`published_at desc, article_id desc`)
    .limit(inlineLimit(options.limit))
    .as('link');
  return db
    .select({
      ...summaryColumns,
      ...(options.includeBody ? feedColumns() : {}),
      sortAt: sql<Date>`${articles.publishedAt}`.mapWith(articles.publishedAt),
      rank: sql<null>`null`,
    })
    .from(tag)
    .crossJoinLateral(links)
    .innerJoin(articles, sql`${articles.id} = "link"."article_id" and ${articles.locale} = "tag"."locale"`)
    .where(liveCondition())
    .orderBy(sql`"link"."linked_at" desc, "link"."article_id" desc`)
    .limit(inlineLimit(options.limit));
}

function listValues(options: ListOptions): Record<string, unknown> {
  const values: Record<string, unknown> = {
    q: options.q,
    locale: options.locale,
    status: options.status,
    section: options.section,
    label: options.label,
    publishedAfter: options.publishedAfter?.toISOString(),
    publishedBefore: options.publishedBefore?.toISOString(),
    afterAt: options.after?.sortAt.toISOString(),
    afterId: options.after?.id,
    afterRank: options.after?.rank ?? '0',
  };
  return { ...values, ...tagFilterValues(options.tagSlugs) };
}

/** What makes two list queries the same statement with different values. */
function listShape(options: ListOptions): string {
  const has = (value: unknown) => (value === undefined ? '0' : '1');
  return [
    options.viewer.seesUnpublished ? 'e' : 'a',
    options.status ?? '-',
    has(options.q),
    has(options.locale),
    has(options.section),
    has(options.label),
    has(options.publishedAfter),
    has(options.publishedBefore),
    has(options.after),
    options.includeBody ? 'b' : '-',
    tagsShape(options.tagSlugs),
    options.limit,
  ].join('_');
}

type PreparedList = ReturnType<ReturnType<typeof listQuery>['prepare']>;
const preparedLists = preparedStatements<PreparedList>('lede_articles');

/** The statement a list runs, with named placeholders for its values; exported so tests can check its text. */
export function listStatement(db: Database, options: ListOptions) {
  return usesTagLinks(options) ? (tagLinksQuery(db, options, placeholder) as unknown as ReturnType<typeof listQuery>) : listQuery(db, options, placeholder);
}

export async function listArticles(db: Database, options: ListOptions): Promise<ArticleListRow[]> {
  const bucketed = { ...options, limit: limitBucket(options.limit) };
  const prepared = preparedLists(db, listShape(bucketed), (name) => listStatement(db, bucketed).prepare(name));
  const found = (await prepared.execute(listValues(options))) as unknown as Omit<ArticleListRow, 'tags'>[];
  const rows = found.length > options.limit ? found.slice(0, options.limit) : found;
  const tagsByArticle = await tagsOfArticles(db, rows.map((row) => row.id));
  return rows.map((row) => ({ ...row, tags: tagsByArticle.get(row.id) ?? [] }));
}
