import { z } from 'zod';
import type { ContentChanges } from '../../cache/content-changes.js';
import type { Database } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import { AppError, ambiguousSlug } from '../../http/app-error.js';
import { decodeCursor, paginate } from '../../http/cursor.js';
import { staleVersion } from '../../http/preconditions.js';
import { slugify } from '../../lib/slug.js';
import { looksLikeUuid } from '../../lib/uuid.js';
import type { SiteUrls } from '../../lib/site-urls.js';
import { detachedArticleEvents, tagDeletedEvent, tagEvent } from '../../events/tag-events.js';
import { liveArticlesTagged } from '../articles/articles.repository.js';
import * as repo from './tags.repository.js';
import type { TagCreateInput, TagUpdateInput } from './tags.schemas.js';

export type Tag = repo.TagWithCount;

const TAGS_CURSOR = 'tags';
const TagCursorValues = z.tuple([z.string(), z.uuid()]);

function slugTaken(slug: string, locale: string): AppError {
  return new AppError('TAG_SLUG_TAKEN', `The slug "${slug}" is already used by another tag in locale ${locale}.`, [
    { path: 'body.slug', message: 'already in use' },
  ]);
}

function notFound(idOrSlug: string): AppError {
  return new AppError('TAG_NOT_FOUND', `No tag has the id or slug "${idOrSlug}".`);
}

/** A tag's name and slug show on its page, the tag list, and every article, list and feed naming it. */
const tagKeys = (id: string) => ['tags', `tag:${id}`];

export function tagsService(db: Database, changes: ContentChanges, defaults: { locale: string; urls: Pick<SiteUrls, 'article' | 'tag'> }) {
  const { urls } = defaults;
  /** After a write: the tag as its editor sees it. */
  async function mustFind(id: string): Promise<Tag> {
    const tag = await repo.findTag(db, repo.byId(id), true);
    if (!tag) throw notFound(id);
    return tag;
  }

  return {
    async create(input: TagCreateInput): Promise<Tag> {
      const locale = input.locale ?? defaults.locale;
      const slug = input.slug ?? slugify(input.name);
      if (slug === '') {
        throw new AppError('VALIDATION_FAILED', 'No slug can be made from this name; send one.', [
          { path: 'body.slug', message: 'required when the name has no letters or digits' },
        ]);
      }
      try {
        return await changes.write(async (tx, changed, emit) => {
          const inserted = await repo.insertTag(tx, { slug, name: input.name, description: input.description ?? null, locale });
          const tag = { ...inserted, articleCount: 0 };
          changed(...tagKeys(inserted.id));
          emit(tagEvent('tag.created', tag, urls, tagKeys(inserted.id)));
          return tag;
        });
      } catch (error) {
        // The unique index decides, so two racing creates cannot both win.
        if (isUniqueViolation(error)) throw slugTaken(slug, locale);
        throw error;
      }
    },

    /**
     * By id, or by slug (docs/adr/0009-locales.md): in `locale` when given; without it in
     * DEFAULT_LOCALE first, else in the one other locale that has the slug (`otherLocale`: a tag
     * taking the slug in DEFAULT_LOCALE would displace it). Several others: 404 asking for one.
     */
    async get(idOrSlug: string, locale: string | undefined, countsUnpublished: boolean): Promise<{ tag: Tag; otherLocale: boolean }> {
      if (looksLikeUuid(idOrSlug)) {
        const tag = await repo.findTag(db, repo.byId(idOrSlug), countsUnpublished);
        if (!tag) throw notFound(idOrSlug);
        return { tag, otherLocale: false };
      }
      const tag = await repo.findTag(db, repo.bySlug(idOrSlug, locale ?? defaults.locale), countsUnpublished);
      if (tag) return { tag, otherLocale: false };
      if (locale) throw notFound(idOrSlug);
      const others = (await repo.localesWithSlug(db, idOrSlug)).filter((other) => other !== defaults.locale);
      if (others.length > 1) throw ambiguousSlug('TAG_NOT_FOUND', idOrSlug, others);
      const [only] = others;
      const other = only ? await repo.findTag(db, repo.bySlug(idOrSlug, only), countsUnpublished) : undefined;
      if (!other) throw notFound(idOrSlug);
      return { tag: other, otherLocale: true };
    },

    async list(options: { q?: string; locale?: string; limit: number; cursor?: string; countsUnpublished: boolean }) {
      const after = options.cursor ? decodeCursor(TAGS_CURSOR, options.cursor, TagCursorValues) : undefined;
      const rows = await repo.listTags(db, {
        q: options.q,
        locale: options.locale,
        limit: options.limit + 1,
        after: after ? { name: after[0], id: after[1] } : undefined,
        countsUnpublished: options.countsUnpublished,
      });
      return paginate(rows, options.limit, TAGS_CURSOR, (last) => [last.name, last.id]);
    },

    async update(id: string, versions: number[], update: TagUpdateInput): Promise<Tag> {
      let updated: repo.TagRow | undefined;
      try {
        updated = await changes.write(async (tx, changed, emit) => {
          // An article's tags are in its locale (docs/adr/0009-locales.md): held first, so an
          // article taking the tag meanwhile (which reads it FOR KEY SHARE) is counted or waits.
          const held = update.locale === undefined ? undefined : await repo.lockTag(tx, id);
          if (update.locale !== undefined && held !== undefined && versions.includes(held)) {
            const carriers = await repo.articlesCarrying(tx, id, update.locale);
            if (carriers > 0) {
              const articles = carriers === 1 ? '1 article' : `${carriers} articles`;
              throw new AppError('TAG_IN_USE', `${articles} of another locale carry the tag ${id}; it stays in their locale.`);
            }
          }
          const row = await repo.updateTagIfVersion(tx, id, versions, update);
          if (!row) return undefined;
          changed(...tagKeys(id));
          emit(tagEvent('tag.updated', row, urls, tagKeys(id)));
          return row;
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          const current = await mustFind(id);
          throw slugTaken(update.slug ?? current.slug, update.locale ?? current.locale);
        }
        throw error;
      }
      if (!updated) {
        await mustFind(id);
        throw staleVersion('tag');
      }
      return mustFind(id);
    },

    /**
     * A tag that articles carry is deleted (and detached from them) only with `force`; without it
     * 409 TAG_IN_USE, so no article loses a tag by accident.
     */
    async remove(id: string, versions: number[], options: { force: boolean } = { force: false }): Promise<void> {
      await changes.write(async (tx, changed, emit) => {
        const version = await repo.lockTag(tx, id);
        if (version === undefined) throw notFound(id);
        if (!versions.includes(version)) throw staleVersion('tag');
        if (!options.force) {
          const carriers = await repo.articlesCarrying(tx, id);
          if (carriers > 0) {
            const articles = carriers === 1 ? '1 article carries' : `${carriers} articles carry`;
            throw new AppError('TAG_IN_USE', `${articles} the tag ${id}; delete it with ?force=true to detach it from them.`);
          }
        }
        // Without force no article carries it (checked above), so none changes.
        const detached = options.force ? await detachedArticleEvents(tx, id, await liveArticlesTagged(tx, id), urls, tagKeys(id)) : [];
        await repo.deleteTagIfVersion(tx, id, versions);
        changed(...tagKeys(id));
        for (const event of detached) changed(...event.data.surrogateKeys);
        emit(tagDeletedEvent(id, tagKeys(id)), ...detached);
      });
    },
  };
}

export type TagsService = ReturnType<typeof tagsService>;
