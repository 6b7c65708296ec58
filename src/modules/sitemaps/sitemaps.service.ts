import type { Database } from '../../db/database.js';
import { AppError } from '../../http/app-error.js';
import type { SiteUrls } from '../../lib/site-urls.js';
import { newsLanguage } from './news-language.js';
import { type IndexEntry, newsSitemap, sitemapIndex, urlSitemap } from './sitemap-documents.js';
import { ARTICLES_PAGE_SIZE, articlePages, articlesPage, newsArticles } from './sitemaps.queries.js';

export interface SitemapSettings {
  urls: SiteUrls;
  /** PUBLIC_BASE_URL: where the index points for the pages. */
  baseUrl: string;
  newsroomName: string;
  /** Lowered by tests; the protocol allows 50,000. */
  pageSize?: number;
}

/** The address of page `page` of the article sitemaps, as the index lists it. */
export function articlesPagePath(page: number): string {
  return `/v1/sitemaps/articles-${page}.xml`;
}

/** Sitemaps list pages of the website: without SITE_URL there is none to list. */
function requireSite(urls: SiteUrls): void {
  if (urls.home === null) {
    throw new AppError('SITEMAPS_DISABLED', 'Sitemaps list pages of the news website; set SITE_URL to say where it is.');
  }
}

const later = (a: Date, b: Date) => (a > b ? a : b);

export function sitemapsService(db: Database, settings: SitemapSettings) {
  const pageSize = settings.pageSize ?? ARTICLES_PAGE_SIZE;
  return {
    /**
     * The Google News sitemap, the ids it shows, and the local clock time at which its oldest
     * article leaves the window (null if it lists none): the answer is wrong from then on.
     */
    async news(): Promise<{ body: string; ids: string[]; freshUntil: number | null }> {
      requireSite(settings.urls);
      const askedAt = Date.now();
      const rows = await newsArticles(db);
      const listed = rows.flatMap((row) => {
        const url = settings.urls.article(row);
        return url === null ? [] : [{ row, url }];
      });
      const entries = listed.map(({ row, url }) => ({ url, title: row.title, language: newsLanguage(row.locale), publishedAt: row.publishedAt }));
      // The time left is measured on the database clock and added to the local time taken before
      // the query, so the answer errs early, never late. The last row is the first to age out.
      const oldest = rows.at(-1);
      return {
        body: newsSitemap(settings.newsroomName, entries),
        ids: listed.map(({ row }) => row.id),
        freshUntil: oldest ? askedAt + Math.max(0, oldest.msLeft) : null,
      };
    },

    /** The index of the article pages: always at least page 1, even on an empty site. */
    async index(): Promise<string> {
      requireSite(settings.urls);
      const pages: IndexEntry[] = (await articlePages(db, pageSize)).map((summary) => ({
        url: settings.baseUrl + articlesPagePath(summary.page),
        lastModified: summary.lastModified,
      }));
      if (pages.length === 0) pages.push({ url: settings.baseUrl + articlesPagePath(1) });
      return sitemapIndex(pages);
    },

    /** Page `page` of every live article; past the last page, 404 (page 1 always exists). */
    async page(page: number): Promise<string> {
      requireSite(settings.urls);
      const rows = await articlesPage(db, page, pageSize);
      if (rows.length === 0 && page > 1) {
        throw new AppError('SITEMAP_PAGE_NOT_FOUND', `The article sitemaps have no page ${page}; the index lists those there are.`);
      }
      const entries = rows.flatMap((row) => {
        const url = settings.urls.article(row);
        return url === null ? [] : [{ url, lastModified: later(row.updatedAt, row.publishedAt) }];
      });
      return urlSitemap(entries);
    },
  };
}
