import type { ArticleLabel } from '../../db/schema/articles.js';
import { isoTime } from '../../http/common.schemas.js';
import type { SiteUrls } from '../../lib/site-urls.js';
import type { EntryWithArticle } from './timeline.repository.js';
import type { TimelineEntryWire } from './timeline.schemas.js';

/**
 * `url` is where the entry leads readers: the link set on it, else its article's page on the
 * website; `article.url` is always the article's page.
 */
export function entryWire(entry: EntryWithArticle, urls: Pick<SiteUrls, 'article'>): TimelineEntryWire {
  const articleUrl = entry.article && urls.article(entry.article);
  return {
    id: entry.id,
    occurredAt: isoTime(entry.occurredAt),
    title: entry.title ?? entry.article?.title ?? '',
    label: (entry.label ?? entry.article?.label ?? null) as ArticleLabel | null,
    articleId: entry.articleId,
    article: entry.article && { id: entry.article.id, slug: entry.article.slug, title: entry.article.title, url: articleUrl },
    url: entry.url ?? articleUrl ?? null,
    locale: entry.locale,
    createdAt: isoTime(entry.createdAt),
    updatedAt: isoTime(entry.updatedAt),
    version: entry.version,
  };
}
