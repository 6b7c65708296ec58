import { and, asc, desc, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { articles } from '../../db/schema/articles.js';
import { liveCondition } from '../articles/visibility.js';

/*
 * The sitemaps' reads. Every one walks the partial index on live-or-scheduled articles'
 * (published_at, id), whose predicate liveCondition() repeats, so none of them sorts.
 */

/** Google News takes the articles of the last two days only. */
export const NEWS_WINDOW_HOURS = 48;
/** Google News reads at most 1,000 URLs from one news sitemap. */
export const NEWS_SITEMAP_MAX_URLS = 1_000;
/** The sitemap protocol's limit of URLs in one file. */
export const ARTICLES_PAGE_SIZE = 50_000;

const NEWS_WINDOW = sql.raw(`interval '${NEWS_WINDOW_HOURS} hours'`);

/** What an article's page address is made of (SiteUrls.article). */
const urlColumns = {
  id: articles.id,
  slug: articles.slug,
  locale: articles.locale,
  section: articles.section,
  canonicalUrl: articles.canonicalUrl,
  publishedAt: articles.publishedAt,
};

export interface NewsRow {
  id: string;
  slug: string;
  locale: string;
  section: string | null;
  canonicalUrl: string | null;
  publishedAt: Date;
  title: string;
  /** Milliseconds until it leaves the window, by the database clock (which decides visibility). */
  msLeft: number;
}

/** The live articles of the news window, newest first. */
export async function newsArticles(db: Database): Promise<NewsRow[]> {
  const rows = await db
    .select({
      ...urlColumns,
      title: articles.title,
      msLeft: sql<number>`extract(epoch from (${articles.publishedAt} + ${NEWS_WINDOW} - now())) * 1000`.mapWith(Number),
    })
    .from(articles)
    .where(and(liveCondition(), sql`${articles.publishedAt} > now() - ${NEWS_WINDOW}`))
    .orderBy(desc(articles.publishedAt), desc(articles.id))
    .limit(NEWS_SITEMAP_MAX_URLS);
  return rows as NewsRow[];
}

export interface PageRow {
  id: string;
  slug: string;
  locale: string;
  section: string | null;
  canonicalUrl: string | null;
  publishedAt: Date;
  updatedAt: Date;
}

/**
 * One page of every live article, oldest publication first: an article's page number only moves
 * when an older one is unpublished or deleted, so the early pages stay as they are.
 *
 * Two statements, each with one plain plan: the page's first row is found by counting off the
 * offset in the index alone (an index-only scan), then the page is the index range from that row
 * on, so only its own rows are read from the table. As one statement the planner could rerun the
 * offset scan for every row of the page.
 */
export async function articlesPage(db: Database, page: number, pageSize = ARTICLES_PAGE_SIZE): Promise<PageRow[]> {
  const [first] = await db
    .select({ publishedAt: articles.publishedAt, id: articles.id })
    .from(articles)
    .where(liveCondition())
    .orderBy(asc(articles.publishedAt), asc(articles.id))
    .offset((page - 1) * pageSize)
    .limit(1);
  if (!first) return [];
  const rows = await db
    .select({ ...urlColumns, updatedAt: articles.updatedAt })
    .from(articles)
    .where(and(liveCondition(), sql`(${articles.publishedAt}, ${articles.id}) >= (${first.publishedAt!.toISOString()}::timestamptz, ${first.id}::uuid)`))
    .orderBy(asc(articles.publishedAt), asc(articles.id))
    .limit(pageSize);
  return rows as PageRow[];
}

export interface PageSummary {
  page: number;
  /** The latest change among its articles: an edit, or a publication dated later than it. */
  lastModified: Date;
}

/**
 * Every page's number and last change, in one pass over the live articles (one aggregate, not a
 * read of each page's rows): the index of the article sitemaps.
 */
export async function articlePages(db: Database, pageSize = ARTICLES_PAGE_SIZE): Promise<PageSummary[]> {
  const numbered = db
    .select({
      page: sql<number>`(row_number() over (order by ${articles.publishedAt}, ${articles.id}) - 1) / ${sql.raw(String(pageSize))} + 1`.as('page'),
      changedAt: sql<Date>`greatest(${articles.updatedAt}, ${articles.publishedAt})`.as('changed_at'),
    })
    .from(articles)
    .where(liveCondition())
    .as('numbered');
  const rows = await db
    .select({
      page: sql<number>`${numbered.page}`.mapWith(Number),
      lastModified: sql<Date>`max(${numbered.changedAt})`.mapWith(articles.updatedAt),
    })
    .from(numbered)
    .groupBy(numbered.page)
    .orderBy(numbered.page);
  return rows as PageSummary[];
}
