import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../config.js';
import type { DatabaseHandle } from '../db/database.js';
import { knownQueryParams, withKnownParams } from '../http/query-params.js';
import { EVERYTHING } from './content-changes.js';
import { ResponseCache } from './response-cache.js';
import { nextScheduledChange } from './schedule.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on a cacheable miss: the cache generation when the request started. */
    cacheFill: { generation: number } | null;
  }
}

/** Headers of a rendered response worth replaying; the rest (request id, CORS, limits) are per request. */
const REPLAYED_HEADERS = ['content-type', 'etag', 'last-modified', 'cache-control', 'surrogate-key', 'vary', 'content-language'];
const BYTES_PER_MB = 1024 * 1024;

function isCacheableRequest(request: FastifyRequest): boolean {
  return (
    request.method === 'GET' &&
    request.apiKey === null &&
    request.headers.authorization === undefined &&
    request.routeOptions.config.access === 'public' &&
    request.routeOptions.config.stream !== true &&
    request.routeOptions.url !== undefined
  );
}

/** The URL without the query parameters the route does not know: they change nothing in the answer. */
function cacheKey(request: FastifyRequest): string {
  return withKnownParams(request.url, knownQueryParams(request.routeOptions.schema?.querystring));
}

function replay(reply: FastifyReply, headers: Record<string, string>, payload: string | Buffer): FastifyReply {
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  return reply.header('x-cache', 'hit').send(payload);
}

/**
 * The anonymous response cache (docs/adr/0006-response-cache.md). A GET by an anonymous reader on
 * a public route is answered from memory when the same URL was rendered before and nothing it
 * shows has changed since: each response names what it shows in Surrogate-Key, each write names
 * what it changed (app.contentChanges), and the two meet here. Writes in other processes arrive by
 * LISTEN/NOTIFY (app.changeFeed); while that connection is down nothing is cached or served from
 * the cache. Every entry also ends at the next scheduled publication, when content changes with no
 * write at all, and at the time its route set in `reply.freshUntil`, if sooner.
 */
export const responseCachePlugin = fp<{ config: Config; database: DatabaseHandle }>(
  async function responseCache(app: FastifyInstance, { config, database }) {
    const cache = new ResponseCache(config.RESPONSE_CACHE_MB * BYTES_PER_MB);
    /** Local clock time of the next scheduled publication; undefined while unknown, null if none. */
    let nextChangeAt: number | null | undefined;
    let scheduleLookup: Promise<void> | null = null;

    app.decorateRequest('cacheFill', null);
    if (config.RESPONSE_CACHE_MB === 0) return;
    const feed = app.changeFeed;
    feed.subscribe({
      changed(keys) {
        if (keys.includes(EVERYTHING)) cache.clear();
        else cache.invalidate(keys);
        // A write may have scheduled something: ask again before storing anything.
        nextChangeAt = undefined;
      },
      reset() {
        cache.clear();
        nextChangeAt = undefined;
      },
    });

    const hits = new Counter({ name: 'lede_response_cache_hits_total', help: 'Anonymous reads answered from the response cache', registers: [app.metrics] });
    const misses = new Counter({ name: 'lede_response_cache_misses_total', help: 'Anonymous reads rendered because the response cache had no entry', registers: [app.metrics] });
    new Gauge({
      name: 'lede_response_cache_bytes',
      help: 'Approximate memory held by the response cache',
      registers: [app.metrics],
      collect() {
        this.set(cache.sizeBytes);
      },
    });

    /** Looks the next scheduled publication up once per invalidation; a lookup overtaken by a write is dropped. */
    function refreshSchedule(): void {
      if (scheduleLookup) return;
      const generation = cache.generation;
      scheduleLookup = nextScheduledChange(database.db)
        .then(
          (next) => {
            if (cache.generation === generation) nextChangeAt = next;
          },
          (error: unknown) => app.log.warn({ err: error }, 'response cache: next scheduled publication lookup failed'),
        )
        .finally(() => {
          scheduleLookup = null;
        });
    }

    // After auth and rate limiting (onRequest), before validation and the handler.
    app.addHook('preValidation', async (request, reply) => {
      if (!feed.listening || !isCacheableRequest(request)) return;
      const now = Date.now();
      if (nextChangeAt !== undefined && nextChangeAt !== null && nextChangeAt <= now) {
        // A scheduled article has just gone live: every entry was cut off at this moment.
        cache.clear();
        nextChangeAt = undefined;
      }
      const entry = cache.lookup(cacheKey(request), now);
      if (entry) {
        hits.inc();
        return replay(reply, entry.headers, entry.payload);
      }
      if (nextChangeAt === undefined) refreshSchedule();
      request.cacheFill = { generation: cache.generation };
    });

    app.addHook('onSend', async (request, reply, payload) => {
      const fill = request.cacheFill;
      if (!fill) return payload;
      reply.header('x-cache', 'miss');
      if (reply.statusCode !== 200 || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) return payload;
      const keys = String(reply.getHeader('surrogate-key') ?? '').split(' ').filter(Boolean);
      // A response that names nothing it depends on (a probe, the API document) is never kept.
      if (keys.length === 0) return payload;
      misses.inc();
      if (!feed.listening) return payload;
      // The lookup started after the last invalidation, as did this fill (else the generation check drops it).
      if (nextChangeAt === undefined && scheduleLookup) await scheduleLookup;
      if (nextChangeAt === undefined) return payload;
      const headers: Record<string, string> = {};
      for (const name of REPLAYED_HEADERS) {
        const value = reply.getHeader(name);
        if (value !== undefined) headers[name] = String(value);
      }
      // Whichever comes first: the next scheduled publication, or the time the route said its answer ages out.
      const expiresAt = Math.min(nextChangeAt ?? Infinity, reply.freshUntil ?? Infinity);
      cache.store(cacheKey(request), { payload, headers, dependsOn: keys, expiresAt }, fill.generation);
      return payload;
    });
  },
  { name: 'lede-response-cache', dependencies: ['lede-change-feed', 'lede-auth', 'lede-caching', 'lede-metrics'] },
);
