import type { Feed } from 'feed';

export const FEED_FORMATS = ['rss', 'atom', 'json'] as const;
export type FeedFormat = (typeof FEED_FORMATS)[number];

export const FEED_CONTENT_TYPES: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

const JSON_FEED_1_1 = 'https://jsonfeed.org/version/1.1';

interface JsonFeedItem {
  author?: unknown;
  authors?: unknown[];
  [key: string]: unknown;
}

/**
 * The feed library writes JSON Feed 1.0. Version 1.1 differs in three ways that matter here:
 * its version URL, `authors` (a list) instead of `author`, and a top-level `language`.
 */
function asJsonFeed11(json: string, language: string): string {
  const document = JSON.parse(json) as { version: string; author?: unknown; authors?: unknown[]; items?: JsonFeedItem[] };
  document.version = JSON_FEED_1_1;
  if (document.author) {
    document.authors = [document.author];
    delete document.author;
  }
  for (const item of document.items ?? []) {
    if (item.author) {
      item.authors = [item.author];
      delete item.author;
    }
  }
  return JSON.stringify({ ...document, language });
}

export function renderFeed(feed: Feed, format: FeedFormat, language: string): string {
  if (format === 'rss') return feed.rss2();
  if (format === 'atom') return feed.atom1();
  return asJsonFeed11(feed.json1(), language);
}
