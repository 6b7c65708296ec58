import type { Database } from '../../db/database.js';
import type { SiteUrls } from '../../lib/site-urls.js';
import { latestWithHtml } from '../articles/articles.read.js';
import { ANONYMOUS } from '../articles/visibility.js';
import * as timelineRepo from '../timeline/timeline.repository.js';
import { type FeedDocument, type FeedFormat, renderFeed } from './feed-formats.js';
import { articleItem, newestChange, timelineItem } from './feed-items.js';
import { clockDate, readContentClock } from '../../db/content-clock.js';

export const FEED_SIZE = 50;

export interface FeedSettings {
  baseUrl: string;
  urls: SiteUrls;
  /** NEWSROOM_NAME: in every feed's title, and the feed's author. */
  newsroom: string;
}

/** A rendered feed and what it says about itself for HTTP. */
export interface RenderedFeed {
  body: string;
  ids: string[];
  /** Null only while the database holds nothing a feed could show. */
  lastModified: Date | null;
}

const EPOCH = new Date(0);

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

type ArticleRows = Awaited<ReturnType<typeof latestWithHtml>>;

/**
 * What a feed of articles is about: its name's end, its description, and its page. A tag is named
 * by its name and its page found from the articles carrying it; an empty tag feed keeps the slug.
 */
function articlesScope(filters: { tag?: string; section?: string }, articles: ArticleRows, urls: SiteUrls) {
  if (filters.tag) {
    const carrier = articles.find((article) => article.tags.some((tag) => tag.slug === filters.tag));
    const tag = carrier?.tags.find((candidate) => candidate.slug === filters.tag);
    const name = tag?.name ?? filters.tag;
    const page = tag && carrier ? urls.tag({ id: tag.id, slug: tag.slug, locale: carrier.locale }) : null;
    return { suffix: ` tagged ${name}`, description: `articles tagged ${name}`, page: page ?? urls.home };
  }
  if (filters.section) return { suffix: ` in ${filters.section}`, description: `articles in ${filters.section}`, page: urls.home };
  return { suffix: '', description: 'articles', page: urls.home };
}

export function feedsService(db: Database, settings: FeedSettings) {
  const { baseUrl, urls, newsroom } = settings;
  return {
    /** The latest live articles, overall or for one tag or section. */
    async articles(format: FeedFormat, filters: { locale?: string; tag?: string; section?: string }): Promise<RenderedFeed> {
      // The clock comes with the rows, from the same snapshot. An empty feed has no row to carry
      // it, and a clock read after the content could date a change the content missed: it goes
      // without Last-Modified (its ETag still revalidates it).
      const articles = await latestWithHtml(db, { ...filters, limit: FEED_SIZE });
      const lastModified = clockDate(articles[0]?.clockMs);
      const scope = articlesScope(filters, articles, urls);
      const query = new URLSearchParams(Object.entries(filters).filter((e): e is [string, string] => Boolean(e[1]))).toString();
      const items = articles.map((article) => articleItem(article, urls));
      const feed: FeedDocument = {
        title: `${newsroom} — Latest articles${scope.suffix}`,
        description: `The latest ${scope.description} from ${newsroom}`,
        link: scope.page ?? `${baseUrl}/v1/articles${query ? `?${query}` : ''}`,
        selfLinks: selfLinks(baseUrl, 'articles', query),
        language: languageOf(filters.locale, articles),
        updated: newestChange(items, lastModified ?? EPOCH),
        publisher: newsroom,
        items,
      };
      return { body: renderFeed(feed, format), ids: articles.map((article) => article.id), lastModified };
    },

    /** The latest-news timeline as a feed: each entry links to its own url or its article's page. */
    async timeline(format: FeedFormat, filters: { locale?: string }): Promise<RenderedFeed> {
      // Dated before the content is read: a change landing in between makes the date older than
      // the feed (the next request gets the feed again), never newer than it (a stale 304).
      const lastModified = await readContentClock(db, 'timeline');
      const entries = await timelineRepo.listEntries(db, { viewer: ANONYMOUS, locale: filters.locale, limit: FEED_SIZE });
      const query = filters.locale ? `locale=${encodeURIComponent(filters.locale)}` : '';
      const items = entries.map((entry) => timelineItem(entry, urls, baseUrl));
      const feed: FeedDocument = {
        title: `${newsroom} — Latest news`,
        description: `The latest-news timeline of ${newsroom}`,
        link: urls.home ?? `${baseUrl}/v1/timeline${query ? `?${query}` : ''}`,
        selfLinks: selfLinks(baseUrl, 'timeline', query),
        language: languageOf(filters.locale, entries),
        updated: newestChange(items, lastModified ?? EPOCH),
        publisher: newsroom,
        items,
      };
      return { body: renderFeed(feed, format), ids: entries.map((entry) => entry.id), lastModified };
    },
  };
}
