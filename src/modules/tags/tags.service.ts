import { z } from 'zod';
import type { ContentChanges } from '../../cache/content-changes.js';
import type { Database } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import { AppError } from '../../http/app-error.js';
import { decodeCursor, paginate } from '../../http/cursor.js';
import { staleVersion } from '../../http/preconditions.js';
import { slugify } from '../../lib/slug.js';
import { looksLikeUuid } from '../../lib/uuid.js';
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

export function tagsService(db: Database, changes: ContentChanges, defaults: { locale: string }) {
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
        const row = await changes.write(async (tx, changed) => {
          const inserted = await repo.insertTag(tx, { slug, name: input.name, description: input.description ?? null, locale });
          changed(...tagKeys(inserted.id));
          return inserted;
        });
        return { ...row, articleCount: 0 };
      } catch (error) {
        // The unique index decides, so two racing creates cannot both win.
        if (isUniqueViolation(error)) throw slugTaken(slug, locale);
        throw error;
      }
    },

    async get(idOrSlug: string, locale: string | undefined, countsUnpublished: boolean): Promise<Tag> {
      const where = looksLikeUuid(idOrSlug)
        ? repo.byId(idOrSlug)
        : repo.bySlug(idOrSlug, locale ?? defaults.locale);
      const tag = await repo.findTag(db, where, countsUnpublished);
      if (!tag) throw notFound(idOrSlug);
      return tag;
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
        updated = await changes.write(async (tx, changed) => {
          const row = await repo.updateTagIfVersion(tx, id, versions, update);
          if (row) changed(...tagKeys(id));
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
      await changes.write(async (tx, changed) => {
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
        await repo.deleteTagIfVersion(tx, id, versions);
        changed(...tagKeys(id));
      });
    },
  };
}

export type TagsService = ReturnType<typeof tagsService>;
