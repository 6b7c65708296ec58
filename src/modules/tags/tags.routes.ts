import { z } from 'zod';
import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { setSurrogateKeys } from '../../http/caching.js';
import { IfMatchHeaders } from '../../http/common.schemas.js';
import { problemResponses } from '../../http/openapi.js';
import { requiredVersions } from '../../http/preconditions.js';
import {
  Tag,
  TagCreate,
  TagDeleteQuery,
  TagIdOrSlugParams,
  TagWriteQuery,
  TagListQuery,
  TagLookupQuery,
  TagPage,
  TagUpdate,
} from './tags.schemas.js';
import { tagsService } from './tags.service.js';
import { tagWire } from './tag-wire.js';
import { looksLikeUuid } from '../../lib/uuid.js';
import { perDatabase } from '../../db/per-database.js';

const OPENAPI_TAG = 'Tags';
const LIST_SURROGATE_KEY = 'tags';

export const tagSurrogateKey = (id: string) => `tag:${id}`;

export const tagsRoutes: FastifyPluginAsyncZod = async (app) => {
  const tagsOn = perDatabase((db) => tagsService(db, app.contentChanges, { locale: app.config.DEFAULT_LOCALE, urls: app.siteUrls }));
  const tags = tagsOn(app.database.db);
  /** A write names the tag by id or by slug, found as an editor's read finds it. */
  const idOf = async (idOrSlug: string, locale: string | undefined) =>
    looksLikeUuid(idOrSlug) ? idOrSlug : (await tags.get(idOrSlug, locale, true)).tag.id;

  app.get('/tags', {
    config: { access: 'public' },
    schema: {
      summary: 'List tags',
      description: 'Alphabetical by name. Filter by a name or slug prefix (`q`) and by locale.',
      operationId: 'listTags',
      tags: [OPENAPI_TAG],
      querystring: TagListQuery,
      response: { 200: TagPage, ...problemResponses(304) },
    },
    handler: async (request, reply) => {
      const { data, nextCursor } = await tagsOn(app.readDb(request)).list({ ...request.query, countsUnpublished: request.apiKey !== null });
      setSurrogateKeys(reply, [LIST_SURROGATE_KEY]);
      return { data: data.map((tag) => tagWire(tag, app.siteUrls)), nextCursor };
    },
  });

  app.get('/tags/:idOrSlug', {
    config: { access: 'public' },
    schema: {
      summary: 'Get a tag by id or slug',
      description: 'A slug is looked up in `locale` (default: the newsroom locale). Anonymous readers count only live articles.',
      operationId: 'getTag',
      tags: [OPENAPI_TAG],
      params: TagIdOrSlugParams,
      querystring: TagLookupQuery,
      response: { 200: Tag, ...problemResponses(304, 'TAG_NOT_FOUND') },
    },
    handler: async (request, reply) => {
      const { tag, otherLocale } = await tagsOn(app.readDb(request)).get(request.params.idOrSlug, request.query.locale, request.apiKey !== null);
      reply.resourceVersion = tag.version;
      // Found in another locale: a tag taking the slug in DEFAULT_LOCALE (any tag write names the list key) displaces it.
      setSurrogateKeys(reply, [tagSurrogateKey(tag.id), ...(otherLocale ? [LIST_SURROGATE_KEY] : [])]);
      return tagWire(tag, app.siteUrls);
    },
  });

  app.post('/tags', {
    config: { access: 'editor' },
    schema: {
      summary: 'Create a tag',
      description: 'The slug is made from the name when absent. A slug already used in the locale is 409.',
      operationId: 'createTag',
      tags: [OPENAPI_TAG],
      body: TagCreate,
      response: { 201: Tag, ...problemResponses('TAG_SLUG_TAKEN') },
    },
    handler: async (request, reply) => {
      const tag = await tags.create(request.body);
      reply.resourceVersion = tag.version;
      return reply.code(201).header('location', `/v1/tags/${tag.id}`).send(tagWire(tag, app.siteUrls));
    },
  });

  app.patch('/tags/:idOrSlug', {
    config: { access: 'editor' },
    schema: {
      summary: 'Change a tag',
      description:
        'By id or slug. Needs If-Match with the ETag of your last read: 428 without it, 412 if it is stale. ' +
        "An article's tags are in its locale: a new locale while articles of another carry the tag is 409 TAG_IN_USE.",
      operationId: 'updateTag',
      tags: [OPENAPI_TAG],
      params: TagIdOrSlugParams,
      querystring: TagWriteQuery,
      headers: IfMatchHeaders,
      body: TagUpdate,
      response: { 200: Tag, ...problemResponses('TAG_NOT_FOUND', 'TAG_SLUG_TAKEN', 'TAG_IN_USE', 412, 428) },
    },
    handler: async (request, reply) => {
      const tag = await tags.update(await idOf(request.params.idOrSlug, request.query.locale), requiredVersions(request), request.body);
      reply.resourceVersion = tag.version;
      return tagWire(tag, app.siteUrls);
    },
  });

  app.delete('/tags/:idOrSlug', {
    config: { access: 'editor' },
    schema: {
      summary: 'Delete a tag',
      description:
        'By id or slug. Needs If-Match like any change. A tag that articles carry is 409 TAG_IN_USE (nothing changed) unless `force=true`, ' +
        'which deletes it and detaches it from every article carrying it.',
      operationId: 'deleteTag',
      tags: [OPENAPI_TAG],
      params: TagIdOrSlugParams,
      headers: IfMatchHeaders,
      querystring: TagDeleteQuery,
      response: { 204: z.null().meta({ description: 'Deleted' }), ...problemResponses('TAG_NOT_FOUND', 'TAG_IN_USE', 412, 428) },
    },
    handler: async (request, reply) => {
      await tags.remove(await idOf(request.params.idOrSlug, request.query.locale), requiredVersions(request), { force: request.query.force });
      return reply.code(204).send(null);
    },
  });
};
