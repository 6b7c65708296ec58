import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from '@fastify/type-provider-zod';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/database.js';
import { responseCachePlugin } from './cache/cache-plugin.js';
import { changeFeedPlugin } from './cache/change-feed.js';
import { databasePlugin } from './db/plugin.js';
import { readRoutingPlugin } from './db/read-routing.plugin.js';
import { authPlugin } from './http/auth.js';
import { authFailureLimit } from './http/auth-failures.js';
import { cachingPlugin } from './http/caching.js';
import { clientErrorHandler } from './http/client-errors.js';
import { corsPlugin } from './http/cors.js';
import { errorHandlerPlugin, frameworkErrorHandler } from './http/error-handler.js';
import { drainingPlugin } from './http/draining.js';
import { inputGuardPlugin } from './http/input-guard.js';
import { openApiPlugin } from './http/openapi.js';
import { rateLimitPlugin } from './http/rate-limit.js';
import { requestIdFrom } from './http/request-id.js';
import { securityHeadersPlugin } from './http/security-headers.js';
import { compiledSerializerCompiler } from './http/serializer.js';
import { articlesRoutes } from './modules/articles/articles.routes.js';
import { eventsRoutes } from './modules/events/events.routes.js';
import { streamRoutes } from './modules/events/stream.routes.js';
import { liveStreamsPlugin } from './events/live.plugin.js';
import { feedsRoutes } from './modules/feeds/feeds.routes.js';
import { siteUrls, type SiteUrls } from './lib/site-urls.js';
import { healthRoutes } from './modules/health/health.routes.js';
import { keysService } from './modules/keys/keys.service.js';
import { keysRoutes } from './modules/keys/keys.routes.js';
import { metricsPlugin } from './modules/metrics/metrics.js';
import { metricsRoutes } from './modules/metrics/metrics.routes.js';
import { sitemapsRoutes } from './modules/sitemaps/sitemaps.routes.js';
import { timelineRoutes } from './modules/timeline/timeline.routes.js';
import { tagsRoutes } from './modules/tags/tags.routes.js';
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.js';
import { webhookWorkerPlugin } from './modules/webhooks/worker.plugin.js';
import { eventSchedulerPlugin } from './events/scheduler.plugin.js';
import type { DeliveryLimits } from './modules/webhooks/worker.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    /** Pages of the news website (SITE_URL) and of this API, from the configuration. */
    siteUrls: SiteUrls;
  }
}

export interface AppDependencies {
  database: DatabaseHandle;
  logger: FastifyBaseLogger;
  /** Overrides of the webhook worker's limits (tests shrink timeouts and retry windows). */
  webhookLimits?: Partial<DeliveryLimits>;
}

/** A slug of 200 characters must reach the router (Fastify's default limit is 100). */
const MAX_PARAM_LENGTH = 512;
/**
 * How often Node checks open connections against the headers and request timeouts. Its default
 * (30 s) would let a slow sender hold a connection for up to 30 s past HEADERS_TIMEOUT_MS.
 */
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;

/** Builds the whole app; the caller owns listening. Closing the app closes the database. */
export async function buildApp(config: Config, deps: AppDependencies): Promise<FastifyInstance> {
  const hsts = config.PUBLIC_BASE_URL.startsWith('https://');
  const app = Fastify({
    loggerInstance: deps.logger,
    genReqId: requestIdFrom,
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    // Timeouts (README: Limits): a slow or idle client cannot hold a connection for long.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeout: config.CONNECTION_TIMEOUT_MS,
    http: {
      headersTimeout: config.HEADERS_TIMEOUT_MS,
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS,
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH, ignoreTrailingSlash: true },
    // Requests arriving during shutdown are answered by the draining plugin, as problem+json.
    return503OnClosing: false,
    frameworkErrors: frameworkErrorHandler,
    // What Node refuses before routing (malformed HTTP, oversize headers, timeouts): problem+json too.
    clientErrorHandler: clientErrorHandler({ hsts, log: deps.logger }),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(compiledSerializerCompiler({ validate: config.RESPONSE_VALIDATION }));
  // Only JSON bodies are accepted: a text/plain body is 415, not a string handed to validation.
  app.removeContentTypeParser('text/plain');
  // JSON Merge Patch bodies are JSON too; PATCH clients often label them so.
  // An empty body labelled JSON (clients that always send the header, on DELETE or publish) is
  // no body, not malformed JSON. Anything else goes to Fastify's own parser (prototype-poisoning safe).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const parseJsonOrNothing: typeof parseJson = (request, body, done) =>
    body === '' ? done(null, undefined) : parseJson(request, body, done);
  app.removeContentTypeParser('application/json');
  for (const type of ['application/json', 'application/merge-patch+json']) {
    app.addContentTypeParser(type, { parseAs: 'string' }, parseJsonOrNothing);
  }

  app.decorate('config', config);
  app.decorate('siteUrls', siteUrls(config));
  await app.register(databasePlugin, { database: deps.database });

  // Cross-cutting HTTP behaviour, in the order a request meets it.
  await app.register(errorHandlerPlugin);
  await app.register(drainingPlugin);
  await app.register(metricsPlugin, { database: deps.database });
  await app.register(securityHeadersPlugin, { hsts });
  await app.register(corsPlugin, { config });
  await app.register(changeFeedPlugin, { database: deps.database });
  // Anonymous reads on streaming replicas (DATABASE_READ_URLS), once they have replayed what this process heard of.
  await app.register(readRoutingPlugin, { config, database: deps.database });
  const keys = keysService(deps.database.db, app.contentChanges, { feed: app.changeFeed, ttlMs: config.KEY_CACHE_TTL });
  await app.register(authPlugin, {
    resolveKey: (presented) => keys.resolve(presented),
    keptKey: (presented) => keys.resolveKept(presented),
    failures:
      config.AUTH_FAILURE_LIMIT > 0
        ? authFailureLimit(deps.database.db, { limit: config.AUTH_FAILURE_LIMIT, windowMs: config.AUTH_FAILURE_WINDOW, log: deps.logger })
        : undefined,
  });
  await app.register(rateLimitPlugin, { config, db: deps.database.db });
  await app.register(inputGuardPlugin);
  await app.register(cachingPlugin, { config });
  await app.register(responseCachePlugin, { config, database: deps.database });
  await app.register(openApiPlugin);

  // Live event streams: one reader of the change log per process, for the stream route.
  await app.register(liveStreamsPlugin);

  // Resources.
  await app.register(healthRoutes);
  await app.register(metricsRoutes);
  await app.register(
    async (v1) => {
      await v1.register(keysRoutes);
      await v1.register(tagsRoutes);
      await v1.register(articlesRoutes);
      await v1.register(timelineRoutes);
      await v1.register(feedsRoutes);
      await v1.register(eventsRoutes);
      await v1.register(streamRoutes);
      await v1.register(sitemapsRoutes);
      await v1.register(webhooksRoutes);
    },
    { prefix: '/v1' },
  );
  // Sends webhook deliveries from the moment the app is ready; stops before the database closes.
  await app.register(webhookWorkerPlugin, { limits: deps.webhookLimits });
  // Announces scheduled articles when their time comes, once across processes; sweeps old events.
  await app.register(eventSchedulerPlugin);

  return app;
}
