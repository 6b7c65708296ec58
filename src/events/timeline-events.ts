import type { ArticleRow } from '../modules/articles/articles.repository.js';
import type { SiteUrls } from '../lib/site-urls.js';
import { entryWire } from '../modules/timeline/entry-wire.js';
import type { EntryArticle, EntryRow, EntryWithArticle } from '../modules/timeline/timeline.repository.js';
import type { EventDraft } from './event-types.js';

/** An entry shows on its own page, on timeline pages and in the timeline feed. */
export const entryKeys = (id: string): string[] => ['timeline', `timeline:${id}`];

/**
 * Whether anonymous readers see the entry at `now` (the timeline's own rule: `live_at <= now()`).
 * An entry of a draft or deleted article has no `liveAt`; a scheduled one's is still ahead.
 */
export function entryIsPublic(entry: Pick<EntryRow, 'liveAt'>, now = new Date()): boolean {
  return entry.liveAt !== null && entry.liveAt <= now;
}

/** What an entry shows of the article it follows, from the article's row. */
export function entryArticleOf(article: ArticleRow): EntryArticle {
  const { id, slug, title, label, locale, section, publishedAt, canonicalUrl } = article;
  return { id, slug, title, label, locale, section, publishedAt, canonicalUrl };
}

/**
 * The entry as it now reads. Keys see it whatever its state; readers only while it is visible:
 * an entry readers do not see yet (its article a draft or scheduled) is keyed-only.
 */
export function entryEvent(
  type: 'timeline.entry.created' | 'timeline.entry.updated',
  entry: EntryWithArticle,
  urls: Pick<SiteUrls, 'article'>,
  visible = entryIsPublic(entry),
): EventDraft {
  return { type, data: { ...entryWire(entry, urls), surrogateKeys: entryKeys(entry.id) }, public: visible };
}

/** The entry is gone, or hidden from readers: its id alone. Keyed-only if readers never saw it. */
export function entryDeletedEvent(id: string, wasVisible: boolean): EventDraft {
  return { type: 'timeline.entry.deleted', data: { id, surrogateKeys: entryKeys(id) }, public: wasVisible };
}
