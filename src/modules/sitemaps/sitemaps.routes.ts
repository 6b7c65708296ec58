import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import type { FastifyReply } from 'fastify';
import { setSurrogateKeys } from '../../http/caching.js';
import { problemResponses } from '../../http/openapi.js';
import { ARTICLES_PAGE_SIZE, NEWS_SITEMAP_MAX_URLS, NEWS_WINDOW_HOURS } from './sitemaps.queries.js';
import { ArticlesPageParams, SITEMAP_CONTENT_TYPE, SitemapXml } from './sitemaps.schemas.js';
import { sitemapsService } from './sitemaps.service.js';
import { perDatabase } from '../../db/per-database.js';

const OPENAPI_TAG = 'Feeds';
const PRODUCES = [SITEMAP_CONTENT_TYPE.split(';')[0]!];
const NEEDS_SITE = ' Lists pages of the news website: 404 `SITEMAPS_DISABLED` while `SITE_URL` is unset.';

/**
 * Any change to a live article names `articles` (docs/adr/0006-response-cache.md), which every
 * sitemap shows; `sitemaps` lets a CDN purge them alone.
 */
const SITEMAP_KEYS = ['articles', 'sitemaps'];

function sendXml(reply: FastifyReply, body: string) {
  // The document as bytes, encoded once: no JSON serialiser touches it, and the ETag hash, the
  // socket and the response cache (half the memory of a string) take it as it is.
  return reply.type(SITEMAP_CONTENT_TYPE).send(Buffer.from(body));
}

export const sitemapsRoutes: FastifyPluginAsyncZod = async (app) => {
  const sitemapsOn = perDatabase((db) => sitemapsService(db, {
    urls: app.siteUrls,
    baseUrl: app.config.PUBLIC_BASE_URL,
    newsroomName: app.config.NEWSROOM_NAME,
  }));

  app.get('/sitemaps/news.xml', {
    config: { access: 'public' },
    schema: {
      summary: 'Google News sitemap',
      description:
        `The live articles published in the last ${NEWS_WINDOW_HOURS} hours, newest first (at most ${NEWS_SITEMAP_MAX_URLS}), ` +
        'with their publication name, language, first publication time and title. Cached copies end when the oldest one ages out.' +
        NEEDS_SITE,
      operationId: 'newsSitemap',
      tags: [OPENAPI_TAG],
      produces: PRODUCES,
      response: { 200: SitemapXml, ...problemResponses(304, 'SITEMAPS_DISABLED') },
    },
    handler: async (request, reply) => {
      const { body, ids, freshUntil } = await sitemapsOn(app.readDb(request)).news();
      reply.freshUntil = freshUntil;
      setSurrogateKeys(reply, [...SITEMAP_KEYS, ...ids.map((id) => `article:${id}`)]);
      return sendXml(reply, body);
    },
  });

  app.get('/sitemaps/index.xml', {
    config: { access: 'public' },
    schema: {
      summary: 'Sitemap index of every live article',
      description: `The article sitemap pages (\`articles-1.xml\`, \`articles-2.xml\`…), each with the latest change among its articles; always at least one.${NEEDS_SITE}`,
      operationId: 'sitemapIndex',
      tags: [OPENAPI_TAG],
      produces: PRODUCES,
      response: { 200: SitemapXml, ...problemResponses(304, 'SITEMAPS_DISABLED') },
    },
    handler: async (request, reply) => {
      setSurrogateKeys(reply, SITEMAP_KEYS);
      return sendXml(reply, await sitemapsOn(app.readDb(request)).index());
    },
  });

  app.get('/sitemaps/articles-:page.xml', {
    config: { access: 'public' },
    schema: {
      summary: 'One page of the article sitemap',
      description:
        `Up to ${ARTICLES_PAGE_SIZE.toLocaleString('en')} live articles, oldest publication first, each with its page and last change. ` +
        `A page past the last: 404 \`SITEMAP_PAGE_NOT_FOUND\`.${NEEDS_SITE}`,
      operationId: 'articlesSitemap',
      tags: [OPENAPI_TAG],
      params: ArticlesPageParams,
      produces: PRODUCES,
      response: { 200: SitemapXml, ...problemResponses(304, 'SITEMAPS_DISABLED', 'SITEMAP_PAGE_NOT_FOUND') },
    },
    handler: async (request, reply) => {
      const body = await sitemapsOn(app.readDb(request)).page(request.params.page);
      setSurrogateKeys(reply, SITEMAP_KEYS);
      return sendXml(reply, body);
    },
  });
};
