import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import cors from '@fastify/cors';
import type { Config } from '../config.js';

/** What a browser script may send: the key, JSON bodies, the conditional headers, a request id. */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match', 'Last-Event-ID', 'X-Request-Id'];
/** What a browser script may read beyond the CORS-safelisted headers. */
export const CORS_EXPOSED_HEADERS = [
  'ETag',
  'Location',
  'Retry-After',
  'X-Request-Id',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
];
const CORS_METHODS = ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'];
/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS by configuration (CORS_ORIGINS): none allowed by default, `*`, or a list. Keys travel in
 * the Authorization header, never in cookies, so credentials mode is not offered. Registered
 * before auth: a preflight carries no key and is answered in @fastify/cors's onRequest hook.
 */
export const corsPlugin = fp<{ config: Config }>(
  async function corsPolicy(app: FastifyInstance, { config }) {
    // @fastify/cors adds an `OPTIONS *` route for preflights; like every route it declares access.
    app.addHook('onRoute', (route) => {
      if (route.method === 'OPTIONS' && route.url === '*') route.config = { ...route.config, access: 'public' };
    });
    const origins = config.CORS_ORIGINS;
    await app.register(cors, {
      origin: origins === '*' ? '*' : origins.length > 0 ? [...origins] : false,
      methods: CORS_METHODS,
      allowedHeaders: CORS_ALLOWED_HEADERS,
      exposedHeaders: CORS_EXPOSED_HEADERS,
      maxAge: PREFLIGHT_MAX_AGE_SECONDS,
      credentials: false,
    });
  },
  { name: 'lede-cors' },
);
