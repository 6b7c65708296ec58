import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../http/app-error.js';
import { WWW_AUTHENTICATE } from '../../http/auth.js';
import { setSurrogateKeys } from '../../http/caching.js';
import { IfMatchHeaders } from '../../http/common.schemas.js';
import { problemResponses } from '../../http/openapi.js';
import { requiredVersions } from '../../http/preconditions.js';
import { articleIdOf, getArticle, listArticles } from './articles.read.js';
import { withArticleUrl } from './article-url.js';
import {
  Article,
  ArticleCreate,
  ArticleIdOrSlugParams,
  ArticleIdParams,
  ArticleListQuery,
  ArticlePage,
  ArticleReadQuery,
  ArticleUpdate,
  ArticleWriteQuery,
  PublishRequest,
  Revision,
  RevisionList,
  RevisionParams,
  type ArticleWire,
} from './articles.schemas.js';
import { articlesService, type Author } from './articles.service.js';
import { ANONYMOUS, EDITORIAL, type Viewer } from './visibility.js';

const OPENAPI_TAG = 'Articles';
const LIST_SURROGATE_KEY = 'articles';

export const articleSurrogateKey = (id: string) => `article:${id}`;

/** How long browsers and CDNs may keep a former slug's redirect: a slug can be changed back. */
const REDIRECT_MAX_AGE_SECONDS = 300;

const MovedPermanently = z.null().meta({
  description: 'A former slug: moved to the current one. No body.',
  headers: {
    Location: { type: 'string', description: 'The current slug, with its locale: `/v1/articles/{slug}?locale=…`' },
    'Cache-Control': {
      type: 'string',
      description: `\`public, max-age=${REDIRECT_MAX_AGE_SECONDS}\` (\`private, no-cache\` with a key): kept briefly, as the slug may change again`,
    },
  },
});

function viewerOf(request: FastifyRequest): Viewer {
  return request.apiKey ? EDITORIAL : ANONYMOUS;
}

function authorOf(request: FastifyRequest): Author {
  return { keyId: request.apiKey?.id ?? null, name: request.apiKey?.name ?? 'unknown' };
}

const writeDocs = <P extends typeof ArticleIdParams | typeof ArticleIdOrSlugParams>(summary: string, operationId: string, description: string, params: P) => ({
  summary,
  operationId,
  description,
  tags: [OPENAPI_TAG],
  params,
  headers: IfMatchHeaders,
});

export const articlesRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.database.db;
  const articles = articlesService(db, app.contentChanges, {
    locale: app.config.DEFAULT_LOCALE,
    embedHosts: app.config.EMBED_HOSTS,
    urls: app.siteUrls,
  });
  const idOf = (idOrSlug: string, locale: string | undefined) => articleIdOf(db, idOrSlug, { locale, defaultLocale: app.config.DEFAULT_LOCALE });
  const sendArticle = (reply: { resourceVersion: number | null }, article: ArticleWire) => {
    reply.resourceVersion = article.version;
    return withArticleUrl(app.siteUrls, article);
  };

  app.get('/articles', {
    config: { access: 'public' },
    schema: {
      summary: 'List articles',
      description: 'Summaries (no body), newest first; with `q`, best match first. Anonymous readers see live articles only.',
      operationId: 'listArticles',
      tags: [OPENAPI_TAG],
      querystring: ArticleListQuery,
      response: { 200: ArticlePage, ...problemResponses(304, 'AUTH_REQUIRED') },
    },
    handler: async (request, reply) => {
      const viewer = viewerOf(request);
      if (!viewer.seesUnpublished && request.query.status && request.query.status !== 'published') {
        throw new AppError('AUTH_REQUIRED', `Listing ${request.query.status} articles needs an API key.`, undefined, WWW_AUTHENTICATE);
      }
      const page = await listArticles(app.readDb(request), request.query, viewer);
      // Any live article's change may move it onto this page; tag names show on it; a tag filter
      // follows the tags' slugs.
      const tagIds = new Set(page.data.flatMap((article) => article.tags.map((tag) => tag.id)));
      setSurrogateKeys(reply, [
        LIST_SURROGATE_KEY,
        ...(request.query.tag ? ['tags'] : []),
        ...page.data.map((article) => articleSurrogateKey(article.id)),
        ...[...tagIds].map((id) => `tag:${id}`),
      ]);
      return { data: page.data.map((article) => withArticleUrl(app.siteUrls, article)), nextCursor: page.nextCursor };
    },
  });

  app.get('/articles/:idOrSlug', {
    config: { access: 'public' },
    schema: {
      summary: 'Get an article by id or slug',
      description:
        'The whole article. A former slug answers 301 with Location pointing at the current one, no body, ' +
        `and Cache-Control \`public, max-age=${REDIRECT_MAX_AGE_SECONDS}\` (a slug may be changed back). ` +
        'Anonymous readers get 404 for anything not live.',
      operationId: 'getArticle',
      tags: [OPENAPI_TAG],
      params: ArticleIdOrSlugParams,
      querystring: ArticleReadQuery,
      response: { 200: Article, 301: MovedPermanently, ...problemResponses(304, 'ARTICLE_NOT_FOUND') },
    },
    handler: async (request, reply) => {
      const found = await getArticle(app.readDb(request), request.params.idOrSlug, {
        locale: request.query.locale,
        defaultLocale: app.config.DEFAULT_LOCALE,
        viewer: viewerOf(request),
        html: request.query.format === 'html',
      });
      if ('movedTo' in found) {
        const query = new URLSearchParams({ locale: found.movedTo.locale });
        if (request.query.format) query.set('format', request.query.format);
        // Kept briefly: a redirect kept for good loops once the slug is changed back. No body (the
        // plain reply type: the route's types expect a serialised one).
        return (reply as FastifyReply)
          .code(301)
          .header('location', `/v1/articles/${found.movedTo.slug}?${query}`)
          .header('cache-control', request.apiKey ? 'private, no-cache' : `public, max-age=${REDIRECT_MAX_AGE_SECONDS}`)
          .header('vary', 'Authorization')
          .send();
      }
      // Its tags' names and the articles it shows; articles it refers to but hides are not named
      // (their ids are not the public's) but covered by the list key, which every change of an
      // article's visibility purges, so one going live appears here.
      setSurrogateKeys(reply, [
        articleSurrogateKey(found.article.id),
        ...found.article.tags.map((tag) => `tag:${tag.id}`),
        ...found.shows.map(articleSurrogateKey),
        // Found in another locale: any live article (one taking the slug in DEFAULT_LOCALE) may displace it.
        ...(found.hidesReferences || found.otherLocale ? [LIST_SURROGATE_KEY] : []),
      ]);
      return sendArticle(reply, found.article);
    },
  });

  app.post('/articles', {
    config: { access: 'editor' },
    schema: {
      summary: 'Create an article (as a draft)',
      description: 'The slug is made from the title when absent. Unknown tags or related articles: 422, nothing written.',
      operationId: 'createArticle',
      tags: [OPENAPI_TAG],
      body: ArticleCreate,
      response: { 201: Article, ...problemResponses('ARTICLE_SLUG_TAKEN', 'UNKNOWN_REFERENCE') },
    },
    handler: async (request, reply) => {
      const article = await articles.create(request.body, authorOf(request));
      reply.code(201).header('location', `/v1/articles/${article.id}`);
      return sendArticle(reply, article);
    },
  });

  app.patch('/articles/:idOrSlug', {
    config: { access: 'editor' },
    schema: {
      ...writeDocs(
        'Change an article',
        'updateArticle',
        'By id or current slug. Needs If-Match. A new slug keeps the old one answering with a redirect.',
        ArticleIdOrSlugParams,
      ),
      querystring: ArticleWriteQuery,
      body: ArticleUpdate,
      response: { 200: Article, ...problemResponses('ARTICLE_NOT_FOUND', 'ARTICLE_SLUG_TAKEN', 412, 'UNKNOWN_REFERENCE', 428) },
    },
    handler: async (request, reply) =>
      sendArticle(reply, await articles.update(await idOf(request.params.idOrSlug, request.query.locale), requiredVersions(request), request.body, authorOf(request))),
  });

  app.post('/articles/:id/publish', {
    config: { access: 'editor' },
    schema: {
      ...writeDocs(
        'Publish or schedule an article',
        'publishArticle',
        'A draft: without publishAt, or with a past one, published; with a future one, scheduled, live at that time. ' +
          'A scheduled article: published now (or at a past publishAt). An archived article: published again. ' +
          'publishedAt stays the first publication time unless publishAt is given. ' +
          'Publishing a published article, or a future publishAt on a scheduled or archived one: 409 INVALID_TRANSITION, nothing changed.',
        ArticleIdParams,
      ),
      body: PublishRequest.nullish(),
      response: { 200: Article, ...problemResponses('ARTICLE_NOT_FOUND', 'INVALID_TRANSITION', 412, 428) },
    },
    handler: async (request, reply) => {
      const publishAt = request.body?.publishAt ? new Date(request.body.publishAt) : undefined;
      const options = { publishAt, addToTimeline: request.body?.addToTimeline };
      return sendArticle(reply, await articles.publish(request.params.id, requiredVersions(request), options, authorOf(request)));
    },
  });

  app.post('/articles/:id/unpublish', {
    config: { access: 'editor' },
    schema: {
      ...writeDocs(
        'Unpublish an article',
        'unpublishArticle',
        'A scheduled, published or archived article goes back to draft: hidden from anonymous readers everywhere. ' +
          'It keeps publishedAt if it went live. A draft: 409 INVALID_TRANSITION, nothing changed.',
        ArticleIdParams,
      ),
      response: { 200: Article, ...problemResponses('ARTICLE_NOT_FOUND', 'INVALID_TRANSITION', 412, 428) },
    },
    handler: async (request, reply) =>
      sendArticle(reply, await articles.unpublish(request.params.id, requiredVersions(request), authorOf(request))),
  });

  app.post('/articles/:id/archive', {
    config: { access: 'editor' },
    schema: {
      ...writeDocs(
        'Archive an article',
        'archiveArticle',
        'A published article is hidden from anonymous readers everywhere; editors still see it. ' +
          'Anything but a published article: 409 INVALID_TRANSITION, nothing changed.',
        ArticleIdParams,
      ),
      response: { 200: Article, ...problemResponses('ARTICLE_NOT_FOUND', 'INVALID_TRANSITION', 412, 428) },
    },
    handler: async (request, reply) =>
      sendArticle(reply, await articles.archive(request.params.id, requiredVersions(request), authorOf(request))),
  });

  app.delete('/articles/:idOrSlug', {
    config: { access: 'editor' },
    schema: {
      ...writeDocs('Delete an article', 'deleteArticle', 'By id or current slug. Removed from every read; its revisions stay. Needs If-Match.', ArticleIdOrSlugParams),
      querystring: ArticleWriteQuery,
      response: { 204: z.null().meta({ description: 'Deleted' }), ...problemResponses('ARTICLE_NOT_FOUND', 412, 428) },
    },
    handler: async (request, reply) => {
      await articles.remove(await idOf(request.params.idOrSlug, request.query.locale), requiredVersions(request));
      return reply.code(204).send(null);
    },
  });

  app.get('/articles/:id/revisions', {
    config: { access: 'editor' },
    schema: {
      summary: "List an article's revisions",
      description: 'Every saved version, newest first, with who saved it and when.',
      operationId: 'listArticleRevisions',
      tags: [OPENAPI_TAG],
      params: ArticleIdParams,
      response: { 200: RevisionList, ...problemResponses(304, 'ARTICLE_NOT_FOUND') },
    },
    handler: async (request) => ({ data: await articles.revisions(request.params.id) }),
  });

  app.get('/articles/:id/revisions/:version', {
    config: { access: 'editor' },
    schema: {
      summary: 'Get one revision of an article',
      description: 'The article exactly as it was saved at that version.',
      operationId: 'getArticleRevision',
      tags: [OPENAPI_TAG],
      params: RevisionParams,
      response: { 200: Revision, ...problemResponses(304, 'ARTICLE_NOT_FOUND', 'REVISION_NOT_FOUND') },
    },
    handler: async (request) => {
      const revision = await articles.revision(request.params.id, request.params.version);
      return { ...revision, article: withArticleUrl(app.siteUrls, revision.article) };
    },
  });
};
