/** What every feed format is written from: one neutral model, so the formats cannot drift apart. */

export const FEED_FORMATS = ['rss', 'atom', 'json'] as const;
export type FeedFormat = (typeof FEED_FORMATS)[number];

export const FEED_CONTENT_TYPES: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

export const GENERATOR = 'Lede';

/** A picture shown with an item (the article's cover): readers' thumbnails. */
export interface FeedImage {
  url: string;
  /** Its media type when the file name says it; enclosures need one. */
  type?: string;
  alt?: string;
}

/** One item of a feed. Every string is plain text except `contentHtml`. */
export interface FeedItem {
  /** A `urn:uuid:` id: stable whatever the item's links become. */
  id: string;
  title: string;
  /** The item's page: on the news website when there is one, else in this API. */
  link: string;
  /** First publication (a timeline entry: when it happened). */
  published: Date;
  /** Last change; never before `published`. */
  updated: Date;
  summary?: string;
  /** Sanitised HTML: the only field a reader receives as markup. */
  contentHtml?: string;
  /** The item's text when it has no HTML body (a timeline line). */
  contentText?: string;
  authors: string[];
  /** A tag's name (shown) and slug; absent for items that cannot have tags. */
  categories?: { label: string; term: string }[];
  image?: FeedImage;
}

export interface FeedDocument {
  title: string;
  /** Never empty: RSS requires a description and readers show it. */
  description: string;
  /** The page the feed mirrors: the website (or a tag's page there), else the API list. */
  link: string;
  selfLinks: Record<FeedFormat, string>;
  /** Absent for a feed mixing several languages. */
  language?: string;
  /** The newest change among the items. */
  updated: Date;
  /** Who publishes the feed (NEWSROOM_NAME): Atom's author of entries without one. */
  publisher: string;
  items: FeedItem[];
}

const IMAGE_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  svg: 'image/svg+xml',
};

/** An image's media type from its file name's extension; undefined when it does not say. */
export function imageType(url: string): string | undefined {
  const path = URL.canParse(url) ? new URL(url).pathname : url;
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return extension ? IMAGE_TYPES[extension] : undefined;
}
