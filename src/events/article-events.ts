import type { Database } from '../db/database.js';
import { articleChangeKeys } from '../modules/articles/article-keys.js';
import { type ArticleUrls, withArticleUrl } from '../modules/articles/article-url.js';
import { articleWire } from '../modules/articles/articles.read.js';
import * as repo from '../modules/articles/articles.repository.js';
import type { ArticleWire } from '../modules/articles/articles.schemas.js';
import { ANONYMOUS, isLive } from '../modules/articles/visibility.js';
import { entriesOfArticle, type EntryRow } from '../modules/timeline/timeline.repository.js';
import type { EventDraft, EventType } from './event-types.js';
import { entryArticleOf, entryDeletedEvent, entryEvent } from './timeline-events.js';

/*
 * The events of article writes (DESIGN: Events). Editors (keys) hear of every write, with the
 * article as they see it: `article.created`, `article.scheduled`, else `article.changed`. Readers
 * hear only of what they can see: an article coming (`article.published`), changing while live
 * (`article.updated`) or going (`article.unpublished`), and its timeline entries with it. Nothing
 * public carries a draft's or a scheduled article's content. Every event names the surrogate keys
 * the write marks.
 */

type Links = Pick<repo.ArticleLinks, 'tags' | 'related'>;

/** The article as editors see it (the revision just saved), for key-only events. */
function editorEvent(type: EventType, editorView: ArticleWire, urls: ArticleUrls, keys: string[]): EventDraft {
  return { type, data: { ...withArticleUrl(urls, editorView), surrogateKeys: keys } };
}

/** The article as GET /v1/articles/{id} shows it to anonymous readers now. */
async function readerEvent(
  db: Database,
  type: 'article.published' | 'article.updated',
  row: repo.ArticleRow,
  links: Links,
  urls: ArticleUrls,
  keys: string[],
): Promise<EventDraft> {
  // Tags and "Read also" are at hand; related blocks cost a query only when the body has some.
  const wire = await articleWire(db, { ...row, tags: links.tags, related: links.related }, ANONYMOUS);
  return { type, data: { ...withArticleUrl(urls, wire), surrogateKeys: keys } };
}

const removed = (type: 'article.unpublished' | 'article.changed', id: string, keys: string[]): EventDraft => ({
  type,
  data: { id, surrogateKeys: keys },
});

const entryOf = (entry: EntryRow, article: repo.ArticleRow) => ({ ...entry, article: entryArticleOf(article) });

export function createdEvents(editorView: ArticleWire, urls: ArticleUrls, keys: string[]): EventDraft[] {
  return [editorEvent('article.created', editorView, urls, keys)];
}

/** What an article's entry shows of it: a change to any of these changes the entry for readers. */
function entryShows(article: repo.ArticleRow, urls: ArticleUrls) {
  return [article.title, article.label, article.slug, urls.article(article)].join('\n');
}

/**
 * An edit (fields, slug, tags, links). A live article is updated for readers, and so are its
 * entries when the edit changes what they show of it (costs one query then, for the entries).
 */
export async function editEvents(
  db: Database,
  edit: { before: repo.ArticleRow; after: repo.ArticleRow; links: repo.ArticleLinks; editorView: ArticleWire },
  urls: ArticleUrls,
  keys: string[],
): Promise<EventDraft[]> {
  const { before, after, links } = edit;
  const events = [editorEvent('article.changed', edit.editorView, urls, keys)];
  if (!isLive(after)) return events;
  events.push(await readerEvent(db, 'article.updated', after, links, urls, keys));
  if (links.inTimeline && entryShows(before, urls) !== entryShows(after, urls)) {
    const entries = await entriesOfArticle(db, after.id);
    events.push(...entries.map((entry) => entryEvent('timeline.entry.updated', entryOf(entry, after), urls, true)));
  }
  return events;
}

/**
 * A publish, unpublish, archive or delete. `entries` are the article's timeline entries after
 * it, which follow its visibility; `editorView` is null for a delete (editors get its id alone).
 * A publish with a future time is `article.scheduled` only: readers hear of it when it goes live
 * (goLiveEvents).
 */
export async function stateChangeEvents(
  db: Database,
  change: { before: repo.ArticleRow; after: repo.ArticleRow; links: repo.ArticleLinks; entries: EntryRow[]; editorView: ArticleWire | null },
  urls: ArticleUrls,
  keys: string[],
): Promise<EventDraft[]> {
  const { before, after, entries } = change;
  const now = new Date();
  const [wasLive, live] = [isLive(before, now), isLive(after, now)];
  const events: EventDraft[] = [];
  // Going live is told by article.published, which keys get too, with the same article: an
  // article.changed beside it would only repeat it (and a publish is the busiest state change).
  if (change.editorView === null) events.push(removed('article.changed', after.id, keys));
  else if (!(!wasLive && live)) events.push(editorEvent(after.status === 'scheduled' && !live ? 'article.scheduled' : 'article.changed', change.editorView, urls, keys));
  if (!wasLive && live) {
    events.push(await readerEvent(db, 'article.published', after, change.links, urls, keys));
    events.push(...entries.map((entry) => entryEvent('timeline.entry.created', entryOf(entry, after), urls, true)));
  } else if (wasLive && !live) {
    events.push(removed('article.unpublished', after.id, keys));
    events.push(...entries.map((entry) => entryDeletedEvent(entry.id, true)));
  }
  return events;
}

/**
 * For the scheduler, in its transaction: a scheduled article whose time has come, as readers now
 * see it, with its timeline entries (live with it: their `live_at` is its publication time).
 * Nothing if it is not live (unpublished or deleted meanwhile, or not due yet by the database's
 * clock). Costs two queries, three when the body has related blocks.
 */
export async function goLiveEvents(tx: Database, articleId: string, urls: ArticleUrls): Promise<EventDraft[]> {
  const row = await repo.findArticleWithLinks(tx, { id: articleId }, ANONYMOUS);
  if (!row) return [];
  const entries = await entriesOfArticle(tx, articleId);
  const keys = articleChangeKeys(null, row, { tags: row.tags, inTimeline: entries.length > 0 });
  return [
    await readerEvent(tx, 'article.published', row, row, urls, keys),
    ...entries.map((entry) => entryEvent('timeline.entry.created', entryOf(entry, row), urls, true)),
  ];
}
