import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../http/app-error.js';
import { decodeCursor, encodeCursor } from '../../http/cursor.js';
import { problemResponses } from '../../http/openapi.js';
import { EVENT_TYPES, typesMatching } from '../../events/event-types.js';
import { eventsAfter, sweptThrough } from './events.repository.js';
import { EventPage, EventQuery } from './events.schemas.js';

const OPENAPI_TAG = 'Events';
const EVENTS_CURSOR = 'events';

function expired(after: number, swept: number): AppError {
  return new AppError(
    'EVENTS_EXPIRED',
    `Events up to id ${swept} are no longer kept (after ${after} asks for some of them); resync from the lists, then follow the events from the newest id.`,
    [{ path: 'query.after', message: 'older than the retention' }],
  );
}

export const eventsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/events', {
    config: { access: 'public' },
    schema: {
      summary: 'The change log',
      description:
        'Every committed change, oldest first, in commit order: a client keeps the last id it has and asks for `after` it, ' +
        'deletions included, and misses nothing. Without a key, public types only (`article.published|updated|unpublished`, ' +
        '`timeline.entry.*`, `tag.*`) about what anonymous readers may see; with one, also `article.created|changed|scheduled`. ' +
        `Events are kept EVENTS_RETENTION_DAYS (default 30): an \`after\` older than that is 410 \`EVENTS_EXPIRED\`. Never cached.`,
      operationId: 'listEvents',
      tags: [OPENAPI_TAG],
      querystring: EventQuery,
      response: { 200: EventPage, ...problemResponses(304, 'INVALID_CURSOR', 'EVENTS_EXPIRED') },
    },
    handler: async (request, reply) => {
      const { cursor, limit, types } = request.query;
      const db = app.readDb(request);
      const after = cursor ? decodeCursor(EVENTS_CURSOR, cursor, z.tuple([z.number().int().min(0)]))[0] : Number(request.query.after ?? 0);
      if (after > 0 || cursor) {
        const swept = await sweptThrough(db);
        if (after < swept) throw expired(after, swept);
      }
      const rows = await eventsAfter(db, {
        after,
        types: types ? typesMatching(types) : [...EVENT_TYPES],
        all: request.apiKey !== null,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      // The newest page changes with every write: no cache may keep it.
      reply.header('cache-control', 'no-store');
      return {
        data: page.map((row) => ({ id: String(row.id), type: row.type as (typeof EVENT_TYPES)[number], occurredAt: row.occurredAt.toISOString(), data: row.data as { id: string; surrogateKeys: string[] } })),
        nextCursor: rows.length > limit && last ? encodeCursor(EVENTS_CURSOR, [last.id]) : null,
      };
    },
  });
};
