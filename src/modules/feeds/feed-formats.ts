import { atom1 } from './atom.js';
import type { FeedDocument, FeedFormat } from './feed-model.js';
import { jsonFeed } from './json-feed.js';
import { rss2 } from './rss.js';

export { FEED_CONTENT_TYPES, FEED_FORMATS, type FeedDocument, type FeedFormat, type FeedItem } from './feed-model.js';

const RENDERERS: Record<FeedFormat, (feed: FeedDocument) => string> = { rss: rss2, atom: atom1, json: jsonFeed };

export function renderFeed(feed: FeedDocument, format: FeedFormat): string {
  return RENDERERS[format](feed);
}
