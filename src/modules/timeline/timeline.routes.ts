import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { setSurrogateKeys } from '../../http/caching.js';
import { IfMatchHeaders } from '../../http/common.schemas.js';
import { problemResponses } from '../../http/openapi.js';
import { requiredVersions } from '../../http/preconditions.js';
import { ANONYMOUS, EDITORIAL } from '../articles/visibility.js';
import {
  TimelineDays,
  TimelineEntry,
  TimelineEntryCreate,
  TimelineEntryParams,
  TimelineEntryUpdate,
  TimelinePage,
  TimelineQuery,
} from './timeline.schemas.js';
import { timelineService } from './timeline.service.js';
import { perDatabase } from '../../db/per-database.js';

const OPENAPI_TAG = 'Timeline';
const TIMELINE_SURROGATE_KEY = 'timeline';

export const timelineRoutes: FastifyPluginAsyncZod = async (app) => {
  const timelineOn = perDatabase((db) =>
    timelineService(db, app.contentChanges, { locale: app.config.DEFAULT_LOCALE, timeZone: app.config.TIMEZONE, urls: app.siteUrls }),
  );
  const timeline = timelineOn(app.database.db);

  app.get('/timeline', {
    config: { access: 'public' },
    schema: {
      summary: 'The latest-news timeline',
      description:
        'Newest first, paged by an opaque cursor over (occurredAt, id): pages never repeat or skip an entry. ' +
        '`groupBy=day` groups by calendar day in `tz` (default: the newsroom time zone).',
      operationId: 'listTimeline',
      tags: [OPENAPI_TAG],
      querystring: TimelineQuery,
      response: { 200: z.union([TimelinePage, TimelineDays]), ...problemResponses(304) },
    },
    handler: async (request, reply) => {
      const viewer = request.apiKey ? EDITORIAL : ANONYMOUS;
      // A tag filter follows the tags' slugs.
      setSurrogateKeys(reply, [TIMELINE_SURROGATE_KEY, ...(request.query.tag ? ['tags'] : [])]);
      const reader = timelineOn(app.readDb(request));
      return request.query.groupBy === 'day' ? reader.listByDay(request.query, viewer) : reader.list(request.query, viewer);
    },
  });

  app.get('/timeline/:id', {
    config: { access: 'public' },
    schema: {
      summary: 'Get a timeline entry',
      description: "An article's entry is seen exactly when its article is: anonymous readers get 404 for one not live.",
      operationId: 'getTimelineEntry',
      tags: [OPENAPI_TAG],
      params: TimelineEntryParams,
      response: { 200: TimelineEntry, ...problemResponses(304, 'TIMELINE_ENTRY_NOT_FOUND') },
    },
    handler: async (request, reply) => {
      const entry = await timelineOn(app.readDb(request)).get(request.params.id, request.apiKey ? EDITORIAL : ANONYMOUS);
      reply.resourceVersion = entry.version;
      // An article's entry shows the article's title, and is seen exactly when the article is.
      setSurrogateKeys(reply, [`timeline:${entry.id}`, ...(entry.articleId ? [`article:${entry.articleId}`] : [])]);
      return entry;
    },
  });

  app.post('/timeline', {
    config: { access: 'editor' },
    schema: {
      summary: 'Add a timeline entry',
      description: "A flash line (title, maybe url) or an article's entry (articleId). Publishing an article adds its entry by itself.",
      operationId: 'createTimelineEntry',
      tags: [OPENAPI_TAG],
      body: TimelineEntryCreate,
      response: { 201: TimelineEntry, ...problemResponses('UNKNOWN_REFERENCE') },
    },
    handler: async (request, reply) => {
      const entry = await timeline.create(request.body);
      reply.resourceVersion = entry.version;
      return reply.code(201).header('location', `/v1/timeline/${entry.id}`).send(entry);
    },
  });

  app.patch('/timeline/:id', {
    config: { access: 'editor' },
    schema: {
      summary: 'Change a timeline entry',
      description: 'Needs If-Match. A null title or label follows the article again.',
      operationId: 'updateTimelineEntry',
      tags: [OPENAPI_TAG],
      params: TimelineEntryParams,
      headers: IfMatchHeaders,
      body: TimelineEntryUpdate,
      response: { 200: TimelineEntry, ...problemResponses('TIMELINE_ENTRY_NOT_FOUND', 412, 428) },
    },
    handler: async (request, reply) => {
      const entry = await timeline.update(request.params.id, requiredVersions(request), request.body);
      reply.resourceVersion = entry.version;
      return entry;
    },
  });

  app.delete('/timeline/:id', {
    config: { access: 'editor' },
    schema: {
      summary: 'Delete a timeline entry',
      description: 'Needs If-Match. Removes the entry only: an article it points to is not changed.',
      operationId: 'deleteTimelineEntry',
      tags: [OPENAPI_TAG],
      params: TimelineEntryParams,
      headers: IfMatchHeaders,
      response: { 204: z.null().meta({ description: 'Deleted' }), ...problemResponses('TIMELINE_ENTRY_NOT_FOUND', 412, 428) },
    },
    handler: async (request, reply) => {
      await timeline.remove(request.params.id, requiredVersions(request));
      return reply.code(204).send(null);
    },
  });
};
