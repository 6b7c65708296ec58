import type { SiteUrls } from '../../lib/site-urls.js';
import type { ArticleSummaryWire } from './articles.schemas.js';

/**
 * The article with `url`, its page on the news website. Revisions saved before articles had a
 * `canonicalUrl` carry none: null.
 */
export function withArticleUrl<T extends Omit<ArticleSummaryWire, 'canonicalUrl'> & { canonicalUrl?: string | null }>(
  urls: SiteUrls,
  article: T,
): T & { canonicalUrl: string | null; url: string | null } {
  const canonicalUrl = article.canonicalUrl ?? null;
  const publishedAt = article.publishedAt === null ? null : new Date(article.publishedAt);
  return { ...article, canonicalUrl, url: urls.article({ ...article, canonicalUrl, publishedAt }) };
}
