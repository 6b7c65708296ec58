import { Feed } from 'feed';
import type { Database } from '../../db/database.js';
import { latestWithHtml } from '../articles/articles.read.js';
import { ANONYMOUS } from '../articles/visibility.js';
import * as timelineRepo from '../timeline/timeline.repository.js';
import { entryWire } from '../timeline/timeline.service.js';
import { type FeedFormat, renderFeed } from './feed-formats.js';

export const FEED_SIZE = 50;
const GENERATOR = 'Lede';

export interface FeedSettings {
  baseUrl: string;
  locale: string;
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

export function feedsService(db: Database, settings: FeedSettings) {
  return {
    /** The latest live articles, overall or for one tag or section. */
    async articles(format: FeedFormat, filters: { locale?: string; tag?: string; section?: string }) {
      const locale = filters.locale ?? settings.locale;
      const articles = await latestWithHtml(db, { ...filters, locale, limit: FEED_SIZE });
      const scope = filters.tag ? ` tagged ${filters.tag}` : filters.section ? ` in ${filters.section}` : '';
      const query = new URLSearchParams(Object.entries({ ...filters, locale }).filter((e): e is [string, string] => Boolean(e[1])));
      const links = selfLinks(settings.baseUrl, 'articles', query.toString());
      const feed = new Feed({
        title: `Latest articles${scope}`,
        id: links[format],
        link: `${settings.baseUrl}/v1/articles?${query}`,
        language: locale,
        updated: articles[0]?.publishedAt ?? new Date(0),
        generator: GENERATOR,
        copyright: '',
        feedLinks: links,
      });
      for (const article of articles) {
        feed.addItem({
          id: `urn:uuid:${article.id}`,
          title: article.title,
          link: articleUrl(settings.baseUrl, article.slug, article.locale),
          description: article.lead ?? undefined,
          content: article.html,
          date: article.publishedAt ?? article.createdAt,
          category: article.tags.map((tag) => ({ name: tag.name, term: tag.slug })),
          ...(article.byline ? { author: [{ name: article.byline }] } : {}),
        });
      }
      return { body: renderFeed(feed, format, locale), ids: articles.map((article) => article.id) };
    },

    /** The latest-news timeline as a feed: each entry links to its article, its url, or itself. */
    async timeline(format: FeedFormat, filters: { locale?: string }) {
      const locale = filters.locale ?? settings.locale;
      const entries = await timelineRepo.listEntries(db, { viewer: ANONYMOUS, locale, limit: FEED_SIZE });
      const links = selfLinks(settings.baseUrl, 'timeline', `locale=${encodeURIComponent(locale)}`);
      const feed = new Feed({
        title: 'Latest news',
        id: links[format],
        link: `${settings.baseUrl}/v1/timeline?locale=${encodeURIComponent(locale)}`,
        language: locale,
        updated: entries[0]?.occurredAt ?? new Date(0),
        generator: GENERATOR,
        copyright: '',
        feedLinks: links,
      });
      for (const entry of entries.map(entryWire)) {
        const link = entry.article
          ? articleUrl(settings.baseUrl, entry.article.slug, entry.locale)
          : (entry.url ?? `${settings.baseUrl}/v1/timeline/${entry.id}`);
        feed.addItem({
          id: `urn:uuid:${entry.id}`,
          title: entry.label ? `${entry.label.toUpperCase()}: ${entry.title}` : entry.title,
          link,
          date: new Date(entry.occurredAt),
        });
      }
      return { body: renderFeed(feed, format, locale), ids: entries.map((entry) => entry.id) };
    },
  };
}
