import { type FeedDocument, type FeedItem, GENERATOR } from './feed-model.js';
import { escapeXml, XmlWriter } from './xml-writer.js';

const RSS_DOCS = 'https://www.rssboard.org/rss-specification';
const NAMESPACES = {
  'xmlns:atom': 'http://www.w3.org/2005/Atom',
  'xmlns:content': 'http://purl.org/rss/1.0/modules/content/',
  'xmlns:dc': 'http://purl.org/dc/elements/1.1/',
  'xmlns:media': 'http://search.yahoo.com/mrss/',
};

function item(xml: XmlWriter, entry: FeedItem): void {
  xml.start('item');
  if (entry.title) xml.text('title', entry.title);
  xml.text('link', entry.link).text('guid', entry.id, { isPermaLink: 'false' }).text('pubDate', entry.published.toUTCString());
  // Readers take an RSS description as HTML: plain text is escaped for HTML first, so it shows as
  // the text it is and never as markup. An item needs a title or a description.
  const description = entry.summary ?? (entry.title ? undefined : entry.contentText);
  if (description) xml.text('description', escapeXml(description));
  if (entry.contentHtml) xml.text('content:encoded', entry.contentHtml);
  // RSS's own <author> must be an e-mail address; a byline is a Dublin Core creator.
  for (const author of entry.authors) xml.text('dc:creator', author);
  for (const category of entry.categories ?? []) xml.text('category', category.label);
  const image = entry.image;
  if (image) {
    // An enclosure must state its type and length; 0 is the usual "unknown" length.
    if (image.type) xml.empty('enclosure', { url: image.url, type: image.type, length: '0' });
    if (image.alt) {
      xml.start('media:content', { url: image.url, medium: 'image', type: image.type }).text('media:description', image.alt, { type: 'plain' }).end();
    } else {
      xml.empty('media:content', { url: image.url, medium: 'image', type: image.type });
    }
  }
  xml.end();
}

/** RSS 2.0 with the Atom self link, content:encoded bodies, dc:creator bylines and Media RSS images. */
export function rss2(feed: FeedDocument): string {
  const xml = new XmlWriter()
    .start('rss', { version: '2.0', ...NAMESPACES })
    .start('channel')
    .text('title', feed.title)
    .text('link', feed.link)
    .text('description', feed.description)
    .empty('atom:link', { href: feed.selfLinks.rss, rel: 'self', type: 'application/rss+xml' });
  if (feed.language) xml.text('language', feed.language);
  xml.text('lastBuildDate', feed.updated.toUTCString()).text('docs', RSS_DOCS).text('generator', GENERATOR);
  for (const entry of feed.items) item(xml, entry);
  return xml.end().end().toString();
}
