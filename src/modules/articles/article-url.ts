import type { SiteUrls } from '../../lib/site-urls.js';
import type { ArticleSummaryWire } from './articles.schemas.js';

/** What makes an article's page address: the configured site's, or (with no site known) its canonicalUrl alone. */
export type ArticleUrls = Pick<SiteUrls, 'article'>;

/** For writers that are not given the site's configuration (loading demo content): no page but a canonical one. */
export const CANONICAL_URLS_ONLY: ArticleUrls = { article: (article) => article.canonicalUrl ?? null };

/**
 * The article with `url`, its page on the news website. Revisions saved before articles had a
 * `canonicalUrl` carry none: null.
 */
export function withArticleUrl<T extends Omit<ArticleSummaryWire, 'canonicalUrl'> & { canonicalUrl?: string | null }>(
  urls: ArticleUrls,
  article: T,
): T & { canonicalUrl: string | null; url: string | null } {
  const canonicalUrl = article.canonicalUrl ?? null;
  const { id, slug, locale, section, publishedAt } = article;
  return { ...article, canonicalUrl, url: urls.article({ id, slug, locale, section, publishedAt, canonicalUrl }) };
}
