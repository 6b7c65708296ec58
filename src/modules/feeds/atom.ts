import { type FeedDocument, type FeedItem, GENERATOR } from './feed-model.js';
import { XmlWriter } from './xml-writer.js';

const ATOM = 'http://www.w3.org/2005/Atom';

/** Atom says what each text is: plain text is `type="text"`, only the body is `type="html"`. */
function entry(xml: XmlWriter, item: FeedItem): void {
  xml
    .start('entry')
    .text('id', item.id)
    .text('title', item.title, { type: 'text' })
    .empty('link', { rel: 'alternate', href: item.link })
    .text('published', item.published.toISOString())
    .text('updated', item.updated.toISOString());
  for (const author of item.authors) xml.start('author').text('name', author).end();
  if (item.summary) xml.text('summary', item.summary, { type: 'text' });
  if (item.contentHtml) xml.text('content', item.contentHtml, { type: 'html' });
  else if (item.contentText) xml.text('content', item.contentText, { type: 'text' });
  for (const category of item.categories ?? []) xml.empty('category', { term: category.term, label: category.label });
  if (item.image) xml.empty('link', { rel: 'enclosure', href: item.image.url, type: item.image.type, title: item.image.alt || undefined });
  xml.end();
}

/**
 * Atom 1.0 (RFC 4287). The feed names the newsroom as its author, so every entry has one (the
 * RFC requires it) while only bylined entries name their own.
 */
export function atom1(feed: FeedDocument): string {
  const xml = new XmlWriter()
    .start('feed', { xmlns: ATOM, 'xml:lang': feed.language })
    .text('id', feed.selfLinks.atom)
    .text('title', feed.title, { type: 'text' })
    .text('subtitle', feed.description, { type: 'text' })
    .text('updated', feed.updated.toISOString())
    .start('author')
    .text('name', feed.publisher)
    .end()
    .text('generator', GENERATOR)
    .empty('link', { rel: 'alternate', href: feed.link })
    .empty('link', { rel: 'self', type: 'application/atom+xml', href: feed.selfLinks.atom });
  for (const item of feed.items) entry(xml, item);
  return xml.end().toString();
}
