import type { Database } from '../../db/database.js';
import { latestWithHtml } from '../articles/articles.read.js';
import { ANONYMOUS } from '../articles/visibility.js';
import * as timelineRepo from '../timeline/timeline.repository.js';
import { entryWire } from '../timeline/timeline.service.js';
import type { SiteUrls } from '../../lib/site-urls.js';
import { type FeedDocument, type FeedFormat, type FeedItem, renderFeed } from './feed-formats.js';

export const FEED_SIZE = 50;

export interface FeedSettings {
  baseUrl: string;
  urls: SiteUrls;
}

function articleUrl(baseUrl: string, slug: string, locale: string): string {
  return `${baseUrl}/v1/articles/${slug}?locale=${encodeURIComponent(locale)}`;
}

function selfLinks(baseUrl: string, name: string, query: string) {
  const suffix = query ? `?${query}` : '';
  return {
    rss: `${baseUrl}/v1/feeds/${name}.rss${suffix}`,
    atom: `${baseUrl}/v1/feeds/${name}.atom${suffix}`,
    json: `${baseUrl}/v1/feeds/${name}.json${suffix}`,
  };
}

/**
 * A feed's language: the locale asked for; without one (every locale, docs/adr/0009-locales.md)
 * the one its items share, and none when they mix several.
 */
function languageOf(locale: string | undefined, items: { locale: string }[]): string | undefined {
  if (locale) return locale;
  const locales = new Set(items.map((item) => item.locale));
  return locales.size === 1 ? [...locales][0] : undefined;
}

export function feedsService(db: Database, settings: FeedSettings) {
  return {
    /** The latest live articles, overall or for one tag or section. */
    async articles(format: FeedFormat, filters: { locale?: string; tag?: string; section?: string }) {
      const articles = await latestWithHtml(db, { ...filters, limit: FEED_SIZE });
      const scope = filters.tag ? ` tagged ${filters.tag}` : filters.section ? ` in ${filters.section}` : '';
      const query = new URLSearchParams(Object.entries(filters).filter((e): e is [string, string] => Boolean(e[1])));
      const links = selfLinks(settings.baseUrl, 'articles', query.toString());
      const items = articles.map(
        (article): FeedItem => ({
          id: `urn:uuid:${article.id}`,
          title: article.title,
          link: articleUrl(settings.baseUrl, article.slug, article.locale),
          date: article.publishedAt ?? article.createdAt,
          summary: article.lead ?? undefined,
          contentHtml: article.html,
          authors: article.byline ? [article.byline] : [],
          categories: article.tags.map((tag) => ({ label: tag.name, term: tag.slug })),
        }),
      );
      const feed: FeedDocument = {
        title: `Latest articles${scope}`,
        link: `${settings.baseUrl}/v1/articles?${query}`,
        selfLinks: links,
        language: languageOf(filters.locale, articles),
        updated: articles[0]?.publishedAt ?? new Date(0),
        items,
      };
      return { body: renderFeed(feed, format), ids: articles.map((article) => article.id) };
    },

    /** The latest-news timeline as a feed: each entry links to its article, its url, or itself. */
    async timeline(format: FeedFormat, filters: { locale?: string }) {
      const entries = await timelineRepo.listEntries(db, { viewer: ANONYMOUS, locale: filters.locale, limit: FEED_SIZE });
      const query = filters.locale ? `locale=${encodeURIComponent(filters.locale)}` : '';
      const links = selfLinks(settings.baseUrl, 'timeline', query);
      const items = entries.map((entry) => entryWire(entry, settings.urls)).map((entry): FeedItem => {
        const link = entry.article
          ? articleUrl(settings.baseUrl, entry.article.slug, entry.locale)
          : (entry.url ?? `${settings.baseUrl}/v1/timeline/${entry.id}`);
        return {
          id: `urn:uuid:${entry.id}`,
          title: entry.label ? `${entry.label.toUpperCase()}: ${entry.title}` : entry.title,
          link,
          date: new Date(entry.occurredAt),
          authors: [],
        };
      });
      const feed: FeedDocument = {
        title: 'Latest news',
        link: `${settings.baseUrl}/v1/timeline${query ? `?${query}` : ''}`,
        selfLinks: links,
        language: languageOf(filters.locale, entries),
        updated: entries[0]?.occurredAt ?? new Date(0),
        items,
      };
      return { body: renderFeed(feed, format), ids: entries.map((entry) => entry.id) };
    },
  };
}
