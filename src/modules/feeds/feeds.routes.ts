import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { setSurrogateKeys } from '../../http/caching.js';
import { Slug } from '../../http/common.schemas.js';
import { LocaleFilter } from '../../lib/locale.js';
import { FEED_CONTENT_TYPES, FEED_FORMATS, type FeedFormat } from './feed-formats.js';
import { FeedDocument } from './feeds.schemas.js';
import { FEED_SIZE, feedsService, type RenderedFeed } from './feeds.service.js';
import { perDatabase } from '../../db/per-database.js';

const OPENAPI_TAG = 'Feeds';
const FeedParams = z.strictObject({ format: z.enum(FEED_FORMATS).meta({ description: 'rss (RSS 2.0), atom (Atom 1.0) or json (JSON Feed 1.1)' }) });
const PRODUCES = Object.values(FEED_CONTENT_TYPES).map((type) => type.split(';')[0]!);

/** Last-Modified (src/http/openapi-responses.ts) is documented for every feed answer by the shared layer. */
const FeedNotModified = z.null().meta({
  description:
    'Not modified: your copy is current, by If-None-Match (which takes precedence) or else If-Modified-Since compared to the second',
});

/** The headers a rendered feed sends; the caching layer adds ETag and answers 304s. */
function sendFeed(reply: FastifyReply, format: FeedFormat, feed: RenderedFeed) {
  if (feed.lastModified) reply.header('last-modified', feed.lastModified.toUTCString());
  // Encoded once here: the ETag hash, Content-Length and the socket then take the bytes as they are
  // (a large string with one non-Latin-1 character would otherwise be re-encoded at each step).
  return reply.type(FEED_CONTENT_TYPES[format]).send(Buffer.from(feed.body));
}

export const feedsRoutes: FastifyPluginAsyncZod = async (app) => {
  const feedsOn = perDatabase((db) => feedsService(db, { baseUrl: app.config.PUBLIC_BASE_URL, urls: app.siteUrls, newsroom: app.config.NEWSROOM_NAME }));

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
      response: { 200: FeedDocument, 304: FeedNotModified },
    },
    handler: async (request, reply) => {
      const feed = await feedsOn(app.readDb(request)).articles(request.params.format, request.query);
      // Tag names show as categories and in a tag feed's title.
      setSurrogateKeys(reply, ['articles', 'feeds', 'tags', ...feed.ids.map((id) => `article:${id}`)]);
      return sendFeed(reply, request.params.format, feed);
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
      response: { 200: FeedDocument, 304: FeedNotModified },
    },
    handler: async (request, reply) => {
      const feed = await feedsOn(app.readDb(request)).timeline(request.params.format, request.query);
      setSurrogateKeys(reply, ['timeline', 'feeds']);
      return sendFeed(reply, request.params.format, feed);
    },
  });
};
