import type { FeedDocument } from './feed-model.js';

const JSON_FEED_1_1 = 'https://jsonfeed.org/version/1.1';

/**
 * JSON Feed 1.1, written as an object: every field but `content_html` is plain text there. Each
 * item has content_html or content_text, as the version requires.
 */
export function jsonFeed(feed: FeedDocument): string {
  return JSON.stringify({
    version: JSON_FEED_1_1,
    title: feed.title,
    description: feed.description,
    home_page_url: feed.link,
    feed_url: feed.selfLinks.json,
    language: feed.language,
    authors: [{ name: feed.publisher }],
    items: feed.items.map((item) => ({
      id: item.id,
      url: item.link,
      title: item.title || undefined,
      content_html: item.contentHtml,
      content_text: item.contentHtml === undefined ? (item.contentText ?? item.summary ?? item.title) : undefined,
      summary: item.summary,
      image: item.image?.url,
      date_published: item.published.toISOString(),
      date_modified: item.updated.toISOString(),
      tags: item.categories?.map((category) => category.label),
      authors: item.authors.length > 0 ? item.authors.map((name) => ({ name })) : undefined,
    })),
  });
}
