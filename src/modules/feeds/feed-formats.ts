import { escapeXml, XmlWriter } from './xml-writer.js';

export const FEED_FORMATS = ['rss', 'atom', 'json'] as const;
export type FeedFormat = (typeof FEED_FORMATS)[number];

export const FEED_CONTENT_TYPES: Record<FeedFormat, string> = {
  rss: 'application/rss+xml; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  json: 'application/feed+json; charset=utf-8',
};

const GENERATOR = 'Lede';
const RSS_DOCS = 'https://validator.w3.org/feed/docs/rss2.html';
const JSON_FEED_1_1 = 'https://jsonfeed.org/version/1.1';
const NAMESPACES = {
  atom: 'http://www.w3.org/2005/Atom',
  content: 'http://purl.org/rss/1.0/modules/content/',
  dc: 'http://purl.org/dc/elements/1.1/',
};

/** One item of a feed. Every string is plain text except `contentHtml`. */
export interface FeedItem {
  id: string;
  title: string;
  link: string;
  date: Date;
  summary?: string;
  /** Sanitised HTML: the only field a reader receives as markup. */
  contentHtml?: string;
  authors: string[];
  /** A tag's name (shown) and slug; absent for items that cannot have tags. */
  categories?: { label: string; term: string }[];
}

export interface FeedDocument {
  title: string;
  /** The page (here: the API list) the feed mirrors. */
  link: string;
  selfLinks: Record<FeedFormat, string>;
  /** Absent for a feed mixing several languages. */
  language?: string;
  updated: Date;
  items: FeedItem[];
}

function rss2(feed: FeedDocument): string {
  const xml = new XmlWriter()
    .start('rss', { version: '2.0', 'xmlns:dc': NAMESPACES.dc, 'xmlns:content': NAMESPACES.content, 'xmlns:atom': NAMESPACES.atom })
    .start('channel')
    .text('title', feed.title)
    .text('link', feed.link)
    .text('description', '')
    .text('lastBuildDate', feed.updated.toUTCString())
    .text('docs', RSS_DOCS)
    .text('generator', GENERATOR);
  if (feed.language) xml.text('language', feed.language);
  xml.empty('atom:link', { href: feed.selfLinks.rss, rel: 'self', type: 'application/rss+xml' });
  for (const item of feed.items) {
    xml.start('item');
    if (item.title) xml.text('title', item.title);
    xml.text('link', item.link).text('guid', item.id, { isPermaLink: 'false' }).text('pubDate', item.date.toUTCString());
    // Readers take an RSS description as HTML: the plain-text summary is escaped for HTML first, so
    // it shows as the text it is and never as markup.
    if (item.summary) xml.text('description', escapeXml(item.summary));
    if (item.contentHtml) xml.text('content:encoded', item.contentHtml);
    for (const author of item.authors) xml.text('author', author);
    for (const category of item.categories ?? []) xml.text('category', category.label);
    xml.end();
  }
  return xml.end().end().toString();
}

/** Atom says what each text is: plain text is `type="text"`, only the body is `type="html"`. */
function atom1(feed: FeedDocument): string {
  const xml = new XmlWriter()
    .start('feed', { xmlns: NAMESPACES.atom })
    .text('id', feed.selfLinks.atom)
    .text('title', feed.title, { type: 'text' })
    .text('updated', feed.updated.toISOString())
    .text('generator', GENERATOR)
    .empty('link', { rel: 'alternate', href: feed.link })
    .empty('link', { rel: 'self', href: feed.selfLinks.atom });
  for (const item of feed.items) {
    xml
      .start('entry')
      .text('title', item.title, { type: 'text' })
      .text('id', item.id)
      .empty('link', { href: item.link })
      .text('updated', item.date.toISOString());
    if (item.summary) xml.text('summary', item.summary, { type: 'text' });
    if (item.contentHtml) xml.text('content', item.contentHtml, { type: 'html' });
    for (const author of item.authors) xml.start('author').text('name', author).end();
    for (const category of item.categories ?? []) xml.empty('category', { label: category.label, term: category.term });
    xml.end();
  }
  return xml.end().toString();
}

/** JSON Feed 1.1, written as an object: `title`, `summary`, `tags` and names are plain text there. */
function jsonFeed(feed: FeedDocument): string {
  return JSON.stringify({
    version: JSON_FEED_1_1,
    title: feed.title,
    home_page_url: feed.link,
    feed_url: feed.selfLinks.json,
    items: feed.items.map((item) => ({
      id: item.id,
      content_html: item.contentHtml ?? item.summary,
      url: item.link,
      title: item.title || undefined,
      summary: item.summary && item.contentHtml ? item.summary : undefined,
      date_modified: item.date.toISOString(),
      tags: item.categories?.map((category) => category.label),
      authors: item.authors.length > 0 ? item.authors.map((name) => ({ name })) : undefined,
    })),
    language: feed.language,
  });
}

const RENDERERS: Record<FeedFormat, (feed: FeedDocument) => string> = { rss: rss2, atom: atom1, json: jsonFeed };

export function renderFeed(feed: FeedDocument, format: FeedFormat): string {
  return RENDERERS[format](feed);
}
