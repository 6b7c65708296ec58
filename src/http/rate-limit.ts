import { isIPv6 } from 'node:net';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import { AppError } from './app-error.js';
import { DOCS_PREFIX } from './openapi.js';
import { ROUTE_DOCS } from './openapi-responses.js';
import { databaseRateLimitStore } from './rate-limit-store.js';

/**
 * Routes that never count: the probes and the scrape must answer however busy a caller is, and
 * none of these needs the database (counting would: they keep answering while it is down); the
 * API document and the docs page are static; `*` is the CORS preflight catch-all.
 */
const EXEMPT_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/openapi.json', '*']);

export function isRateLimitExempt(routeUrl: string | undefined): boolean {
  if (routeUrl === undefined) return true;
  return EXEMPT_ROUTES.has(routeUrl) || routeUrl === DOCS_PREFIX || routeUrl.startsWith(`${DOCS_PREFIX}/`);
}

const IPV6_PREFIX_GROUPS = 4;
const IPV6_GROUPS = 8;

/**
 * The bucket an address counts in. An IPv6 client usually holds a whole /64 and can rotate
 * through it at will, so IPv6 addresses count per /64; IPv4 (also IPv4-mapped IPv6) per address.
 */
export function addressBucket(ip: string): string {
  const address = ip.split('%')[0]!.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const toGroups = (part: string | undefined): string[] =>
    part ? part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])) : [];
  const [head, tail] = address.split('::');
  const left = toGroups(head);
  const right = toGroups(tail);
  const groups = tail === undefined ? left : [...left, ...Array<string>(IPV6_GROUPS - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, IPV6_PREFIX_GROUPS).map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}

/** A caller with a valid key counts per key (wherever it calls from); anyone else per address. */
export function rateLimitBucket(request: FastifyRequest): string {
  return request.apiKey ? `key:${request.apiKey.id}` : `ip:${addressBucket(request.ip)}`;
}

/**
 * Every counted route's answers carry the RateLimit-* headers; the OpenAPI document says so
 * whatever the configuration (each route can answer 429: see openapi.ts).
 */
function documentCounting(route: RouteOptions): void {
  const schema = route.schema;
  if (!schema || schema.hide || isRateLimitExempt(route.url)) return;
  route.schema = { ...schema, [ROUTE_DOCS]: { ...schema[ROUTE_DOCS], counted: true } };
}

function describeWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`;
  if (ms % 60_000 === 0) return ms === 60_000 ? 'minute' : `${ms / 60_000} minutes`;
  return `${ms / 1000} seconds`;
}

/**
 * Rate limiting with @fastify/rate-limit: RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW per key or
 * address, counted in the database so the limit holds across processes (in batches while far from
 * the limit: see the store). Registered after auth:
 * its hook runs at route level, after the key has been resolved. Answers 429 problem+json with
 * Retry-After and the RateLimit-* headers (IETF draft names) on every counted response.
 */
export const rateLimitPlugin = fp<{ config: Config; db: Database }>(
  async function limits(app: FastifyInstance, { config, db }) {
    app.addHook('onRoute', documentCounting);
    if (config.RATE_LIMIT_MAX === 0) return;

    const per = describeWindow(config.RATE_LIMIT_WINDOW);
    const counters = databaseRateLimitStore(db, { windowMs: config.RATE_LIMIT_WINDOW, max: config.RATE_LIMIT_MAX, log: app.log });
    // Before the database closes (onClose hooks run in reverse order of registration).
    app.addHook('onClose', () => counters.close());
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      max: config.RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW,
      enableDraftSpec: true,
      keyGenerator: rateLimitBucket,
      allowList: (request) => isRateLimitExempt(request.routeOptions.url),
      store: counters.Store,
      errorResponseBuilder: (_request, context) =>
        new AppError('RATE_LIMITED', `At most ${context.max} requests per ${per} are allowed; retry in ${context.after}.`),
    });
  },
  { name: 'lede-rate-limit', dependencies: ['lede-auth'] },
);
