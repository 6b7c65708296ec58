import type { SiteUrls } from '../../lib/site-urls.js';
import type { ArticleListRow } from '../articles/articles.list-query.js';
import type { EntryWithArticle } from '../timeline/timeline.repository.js';
import { entryWire } from '../timeline/timeline.service.js';
import { type FeedItem, imageType } from './feed-model.js';

/** A change dated before the publication (an article scheduled, then live) is the publication. */
const notBefore = (date: Date, earliest: Date) => (date < earliest ? earliest : date);

/** A live article as a feed item: its page on the website (or in the API), its byline, tags and cover. */
export function articleItem(article: ArticleListRow & { html: string }, urls: SiteUrls): FeedItem {
  // Live articles always have a publication time; createdAt only keeps the type honest.
  const published = article.publishedAt ?? article.createdAt;
  const cover = article.coverImage;
  return {
    id: `urn:uuid:${article.id}`,
    title: article.title,
    link: urls.article(article) ?? urls.apiArticle(article),
    published,
    updated: notBefore(article.updatedAt, published),
    summary: article.lead ?? undefined,
    contentHtml: article.html,
    authors: article.byline ? [article.byline] : [],
    categories: article.tags.map((tag) => ({ label: tag.name, term: tag.slug })),
    image: cover ? { url: cover.url, type: imageType(cover.url), alt: cover.alt } : undefined,
  };
}

/** A timeline line as a feed item: it links to its own url or its article's page; its text is its title. */
export function timelineItem(row: EntryWithArticle, urls: SiteUrls, baseUrl: string): FeedItem {
  const entry = entryWire(row, urls);
  const title = entry.label ? `${entry.label.toUpperCase()}: ${entry.title}` : entry.title;
  const apiLink = entry.article ? urls.apiArticle({ slug: entry.article.slug, locale: entry.locale }) : `${baseUrl}/v1/timeline/${entry.id}`;
  return {
    id: `urn:uuid:${entry.id}`,
    title,
    link: entry.url ?? apiLink,
    published: row.occurredAt,
    updated: notBefore(row.updatedAt, row.occurredAt),
    contentText: title,
    authors: [],
  };
}

/** The newest change among items; `fallback` for an empty feed. */
export function newestChange(items: FeedItem[], fallback: Date): Date {
  let newest: Date | undefined;
  for (const item of items) if (!newest || item.updated > newest) newest = item.updated;
  return newest ?? fallback;
}
