import { Timestamp } from '../../http/common.schemas.js';
import { z } from 'zod';
import type { ContentChanges } from '../../cache/content-changes.js';
import type { Database } from '../../db/database.js';
import type { ArticleLabel } from '../../db/schema/articles.js';
import { AppError } from '../../http/app-error.js';
import { decodeCursor, paginate } from '../../http/cursor.js';
import { staleVersion } from '../../http/preconditions.js';
import { localDate } from '../../lib/local-date.js';
import type { SiteUrls } from '../../lib/site-urls.js';
import * as articlesRepo from '../articles/articles.repository.js';
import { EDITORIAL, linkPublishedAt, type Viewer } from '../articles/visibility.js';
import * as repo from './timeline.repository.js';
import { entryWire } from './entry-wire.js';
import { entryDeletedEvent, entryEvent, entryKeys, entryIsPublic } from '../../events/timeline-events.js';
import type { TimelineEntryWire, TimelineQueryInput } from './timeline.schemas.js';

/** Where it was always imported from (feeds). */
export { entryWire } from './entry-wire.js';

const TIMELINE_CURSOR = 'timeline';
const CursorValues = z.tuple([Timestamp, z.uuid()]);

function notFound(id: string): AppError {
  return new AppError('TIMELINE_ENTRY_NOT_FOUND', `No timeline entry has the id ${id}.`);
}

export function timelineService(db: Database, changes: ContentChanges, defaults: { locale: string; timeZone: string; urls: SiteUrls }) {
  const toWire = (entry: repo.EntryWithArticle) => entryWire(entry, defaults.urls);
  async function mustFindIn(tx: Database, id: string, viewer: Viewer = EDITORIAL): Promise<repo.EntryWithArticle> {
    const entry = await repo.findEntry(tx, id, viewer);
    if (!entry) throw notFound(id);
    return entry;
  }
  const mustFind = (id: string, viewer?: Viewer) => mustFindIn(db, id, viewer);

  async function page(query: TimelineQueryInput, viewer: Viewer) {
    const cursor = query.cursor ? decodeCursor(TIMELINE_CURSOR, query.cursor, CursorValues) : undefined;
    const rows = await repo.listEntries(db, {
      viewer,
      locale: query.locale,
      label: query.label,
      tagSlugs: query.tag,
      before: query.before ? new Date(query.before) : undefined,
      after: query.after ? new Date(query.after) : undefined,
      limit: query.limit + 1,
      cursor: cursor && { occurredAt: new Date(cursor[0]), id: cursor[1] },
    });
    const { data: entries, nextCursor } = paginate(rows, query.limit, TIMELINE_CURSOR, (last) => [
      last.occurredAt.toISOString(),
      last.id,
    ]);
    return { entries, nextCursor };
  }

  return {
    async list(query: TimelineQueryInput, viewer: Viewer) {
      const { entries, nextCursor } = await page(query, viewer);
      return { data: entries.map(toWire), nextCursor };
    },

    /** Days cut in the time zone; a day split by the page limit simply continues on the next page. */
    async listByDay(query: TimelineQueryInput, viewer: Viewer) {
      const { entries, nextCursor } = await page(query, viewer);
      const timeZone = query.tz ?? defaults.timeZone;
      const days: { date: string; entries: TimelineEntryWire[] }[] = [];
      for (const entry of entries) {
        const date = localDate(entry.occurredAt, timeZone);
        const day = days.at(-1);
        if (day?.date === date) day.entries.push(toWire(entry));
        else days.push({ date, entries: [toWire(entry)] });
      }
      return { days, nextCursor };
    },

    async get(id: string, viewer: Viewer) {
      return toWire(await mustFind(id, viewer));
    },

    async create(input: {
      title?: string;
      label?: ArticleLabel | null;
      articleId?: string;
      url?: string | null;
      occurredAt?: string;
      locale?: string;
    }) {
      const entry = await changes.write(async (tx, changed, emit) => {
        let liveAt: Date | null = new Date();
        let occurredAt = input.occurredAt ? new Date(input.occurredAt) : new Date();
        let locale = input.locale ?? defaults.locale;
        if (input.articleId) {
          // Read as committed and held until this entry commits: an unpublish, archive or delete
          // of the article waits for it and then hides the entry with the article's others, or
          // went first and is what this read sees. Either way the entry is seen exactly when the
          // article is.
          const article = await articlesRepo.findArticleHeld(tx, input.articleId, 'share');
          if (!article) {
            throw new AppError('UNKNOWN_REFERENCE', 'The entry names an article that does not exist.', [
              { path: 'body.articleId', message: `no article has the id ${input.articleId}` },
            ]);
          }
          liveAt = linkPublishedAt(article);
          occurredAt = input.occurredAt ? occurredAt : (article.publishedAt ?? occurredAt);
          locale = input.locale ?? article.locale;
        }
        const inserted = await repo.insertEntry(tx, {
          occurredAt,
          locale,
          title: input.title ?? null,
          label: input.label ?? null,
          articleId: input.articleId ?? null,
          url: input.url ?? null,
          liveAt,
        });
        // Read back with its article in the write (instead of after it): the event needs it too.
        const created = await mustFindIn(tx, inserted.id);
        changed(...entryKeys(inserted.id));
        emit(entryEvent('timeline.entry.created', created, defaults.urls));
        return created;
      });
      return toWire(entry);
    },

    async update(
      id: string,
      versions: number[],
      update: { title?: string | null; label?: ArticleLabel | null; url?: string | null; occurredAt?: string; locale?: string },
    ) {
      const current = await mustFind(id);
      if (update.title === null && current.articleId === null) {
        throw new AppError('VALIDATION_FAILED', 'A flash entry keeps a title.', [{ path: 'body.title', message: 'required without an article' }]);
      }
      const { occurredAt, ...rest } = update;
      const updated = await changes.write(async (tx, changed, emit) => {
        const row = await repo.updateEntryIfVersion(tx, id, versions, {
          ...rest,
          ...(occurredAt ? { occurredAt: new Date(occurredAt) } : {}),
        });
        if (!row) return undefined;
        const entry = await mustFindIn(tx, id);
        changed(...entryKeys(id));
        emit(entryEvent('timeline.entry.updated', entry, defaults.urls));
        return entry;
      });
      if (!updated) throw staleVersion('timeline entry');
      return toWire(updated);
    },

    async remove(id: string, versions: number[]) {
      const deleted = await changes.write(async (tx, changed, emit) => {
        const row = await repo.deleteEntryIfVersion(tx, id, versions);
        if (!row) return false;
        changed(...entryKeys(id));
        emit(entryDeletedEvent(id, entryIsPublic(row)));
        return true;
      });
      if (deleted) return;
      if (!(await repo.entryExists(db, id))) throw notFound(id);
      throw staleVersion('timeline entry');
    },
  };
}
