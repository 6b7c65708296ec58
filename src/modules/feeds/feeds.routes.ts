import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';
import { setSurrogateKeys } from '../../http/caching.js';
import { Slug } from '../../http/common.schemas.js';
import { problemResponses } from '../../http/openapi.js';
import { LocaleFilter } from '../../lib/locale.js';
import { FEED_CONTENT_TYPES, FEED_FORMATS } from './feed-formats.js';
import { FeedDocument } from './feeds.schemas.js';
import { FEED_SIZE, feedsService } from './feeds.service.js';

const OPENAPI_TAG = 'Feeds';
const FeedParams = z.strictObject({ format: z.enum(FEED_FORMATS).meta({ description: 'rss (RSS 2.0), atom (Atom 1.0) or json (JSON Feed 1.1)' }) });
const PRODUCES = Object.values(FEED_CONTENT_TYPES).map((type) => type.split(';')[0]!);

export const feedsRoutes: FastifyPluginAsyncZod = async (app) => {
  const feeds = feedsService(app.database.db, { baseUrl: app.config.PUBLIC_BASE_URL, urls: app.siteUrls });
  const asIs = (payload: unknown) => payload as string;

  app.get('/feeds/articles.:format', {
    config: { access: 'public' },
    schema: {
      summary: 'Feed of the latest articles',
      description: `The ${FEED_SIZE} latest live articles with their bodies as HTML; per tag or section with \`tag\` or \`section\`.`,
      operationId: 'articlesFeed',
      tags: [OPENAPI_TAG],
      params: FeedParams,
      // Plain objects: parameters they do not know (utm_*, cache busters) are dropped, not refused.
      querystring: z.object({
        locale: LocaleFilter,
        tag: Slug.optional().meta({ description: 'Tag slug: the articles carrying that tag only' }),
        section: Slug.optional().meta({ description: 'Section slug: the articles of that section only' }),
      }),
      produces: PRODUCES,
      response: { 200: FeedDocument, ...problemResponses(304) },
    },
    handler: async (request, reply) => {
      const { body, ids } = await feeds.articles(request.params.format, request.query);
      // Tag names show as categories and in a tag feed's title.
      setSurrogateKeys(reply, ['articles', 'feeds', 'tags', ...ids.map((id) => `article:${id}`)]);
      return reply.type(FEED_CONTENT_TYPES[request.params.format]).serializer(asIs).send(body);
    },
  });

  app.get('/feeds/timeline.:format', {
    config: { access: 'public' },
    schema: {
      summary: 'Feed of the latest-news timeline',
      description: `The ${FEED_SIZE} latest timeline entries.`,
      operationId: 'timelineFeed',
      tags: [OPENAPI_TAG],
      params: FeedParams,
      querystring: z.object({ locale: LocaleFilter }),
      produces: PRODUCES,
      response: { 200: FeedDocument, ...problemResponses(304) },
    },
    handler: async (request, reply) => {
      const { body } = await feeds.timeline(request.params.format, request.query);
      setSurrogateKeys(reply, ['timeline', 'feeds']);
      return reply.type(FEED_CONTENT_TYPES[request.params.format]).serializer(asIs).send(body);
    },
  });
};
