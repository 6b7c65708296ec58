import type { Database } from '../db/database.js';
import type { SiteUrls } from '../lib/site-urls.js';
import { withArticleUrl } from '../modules/articles/article-url.js';
import { articleWire } from '../modules/articles/articles.read.js';
import type { ArticleWithLinks } from '../modules/articles/articles.repository.js';
import { ANONYMOUS } from '../modules/articles/visibility.js';
import { tagWire } from '../modules/tags/tag-wire.js';
import type { TagWithCount } from '../modules/tags/tags.repository.js';
import type { EventDraft } from './event-types.js';

/*
 * Tags are public from their creation: every tag event is. `tag` is the tag as anonymous readers
 * see it (GET /v1/tags/{id}), its articleCount counting live articles only.
 */

export function tagEvent(type: 'tag.created' | 'tag.updated', tag: TagWithCount, urls: Pick<SiteUrls, 'tag'>, keys: string[]): EventDraft {
  return { type, data: { ...tagWire(tag, urls), surrogateKeys: keys } };
}

export function tagDeletedEvent(id: string, keys: string[]): EventDraft {
  return { type: 'tag.deleted', data: { id, surrogateKeys: keys } };
}

/**
 * A forced delete detaches the tag from the articles carrying it: each live one changes for
 * readers (`carriers` read before the delete, so their links still name the tag). Related blocks
 * cost a query per article that has some.
 */
export async function detachedArticleEvents(
  db: Database,
  tagId: string,
  carriers: ArticleWithLinks[],
  urls: Pick<SiteUrls, 'article'>,
  tagKeys: string[],
): Promise<EventDraft[]> {
  return Promise.all(
    carriers.map(async (article) => {
      const wire = await articleWire(db, { ...article, tags: article.tags.filter((tag) => tag.id !== tagId) }, ANONYMOUS);
      return { type: 'article.updated' as const, data: { ...withArticleUrl(urls, wire), surrogateKeys: [`article:${article.id}`, ...tagKeys] } };
    }),
  );
}
