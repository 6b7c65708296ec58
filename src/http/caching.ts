import { hash as hashBody } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';

declare module 'fastify' {
  interface FastifyReply {
    /** The version of the single resource in this response; it becomes part of the ETag. */
    resourceVersion: number | null;
    /**
     * Local clock time at which this answer stops being right with no write at all (content that
     * ages out of a time window); null when only writes and schedules change it. It shortens the
     * public max-age and ends the response cache's copy.
     */
    freshUntil: number | null;
  }
}

const ETAG_HASH_LENGTH = 16;

/**
 * ETags: `"v{version}-{hash}"` for a single resource, `"{hash}"` for anything else. The hash of
 * the exact body makes 304s safe even when a derived field (say a tag's articleCount) changes
 * without a new version; the version prefix is what If-Match is checked against.
 */
export function entityTag(body: string | Buffer, version: number | null): string {
  // SHA-1 in one call: a tag only has to change when the body does (no adversary picks bodies),
  // and this runs on every read.
  const hash = hashBody('sha1', body, 'base64url').slice(0, ETAG_HASH_LENGTH);
  return version === null ? `"${hash}"` : `"v${version}-${hash}"`;
}

function opaqueTag(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}

/** If-None-Match uses weak comparison and may list several tags, or `*`. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const wanted = opaqueTag(etag);
  return header.split(',').some((candidate) => {
    const tag = opaqueTag(candidate);
    return tag === '*' || tag === wanted;
  });
}

/** Versions named by an If-Match header; tags not made by Lede simply name none. */
export function versionsInIfMatch(header: string): number[] {
  const versions: number[] = [];
  for (const candidate of header.split(',')) {
    // If-Match uses strong comparison: a weak tag never matches.
    if (candidate.trim().startsWith('W/')) continue;
    const match = /^"v(\d{1,9})(?:-[A-Za-z0-9_-]*)?"$/.exec(candidate.trim());
    if (match?.[1]) versions.push(Number(match[1]));
  }
  return versions;
}

/**
 * Longest Surrogate-Key header sent. Proxies read a response's headers into one buffer (nginx's
 * proxy_buffer_size is 4 KB by default) and fail the response when they overflow; an article
 * with hundreds of references would name them all.
 */
export const MAX_SURROGATE_KEY_BYTES = 1_500;

/**
 * The key that stands for every key of a kind: a write that changes an article, a tag or a
 * timeline entry also purges the list key of its kind (see the services' change marks).
 */
function broadKey(key: string): string {
  if (key.startsWith('article:')) return 'articles';
  if (key.startsWith('tag:')) return 'tags';
  if (key.startsWith('timeline:')) return 'timeline';
  return key;
}

/**
 * Fits keys into the bound: the first (the resource itself) and the broad keys always stay, then
 * as many of the others as fit; each left out is covered by its kind's broad key.
 */
export function boundedSurrogateKeys(keys: string[]): string[] {
  const unique = [...new Set(keys)];
  if (Buffer.byteLength(unique.join(' ')) <= MAX_SURROGATE_KEY_BYTES) return unique;
  const [own, ...rest] = unique;
  const kept = new Set<string>(own === undefined ? [] : [own]);
  for (const key of rest) kept.add(broadKey(key));
  let bytes = Buffer.byteLength([...kept].join(' '));
  for (const key of rest) {
    if (kept.has(key)) continue;
    const cost = Buffer.byteLength(key) + 1;
    if (bytes + cost > MAX_SURROGATE_KEY_BYTES) break;
    kept.add(key);
    bytes += cost;
  }
  return [...kept];
}

/** Names what a response contains (`Surrogate-Key`), so a CDN can purge exactly what changed. */
export function setSurrogateKeys(reply: FastifyReply, keys: string[]): FastifyReply {
  return reply.header('surrogate-key', boundedSurrogateKeys(keys).join(' '));
}

/** Adds a field to Vary, keeping what other layers put there (CORS adds Origin). */
function addVary(reply: FastifyReply, field: string): void {
  const fields = String(reply.getHeader('vary') ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (!fields.some((name) => name === '*' || name.toLowerCase() === field.toLowerCase())) fields.push(field);
  reply.header('vary', fields.join(', '));
}

function isCacheableRead(request: FastifyRequest, reply: FastifyReply): boolean {
  return (request.method === 'GET' || request.method === 'HEAD') && reply.statusCode === 200;
}

export const cachingPlugin = fp<{ config: Config }>(
  async function caching(app: FastifyInstance, { config }) {
    const publicCacheControl = (freshUntil: number | null) => {
      const secondsLeft = freshUntil === null ? Infinity : Math.max(0, Math.floor((freshUntil - Date.now()) / 1000));
      return (
        `public, max-age=${Math.min(config.CACHE_MAX_AGE_SECONDS, secondsLeft)}, ` +
        `stale-while-revalidate=${config.CACHE_STALE_WHILE_REVALIDATE_SECONDS}`
      );
    };

    app.decorateReply('resourceVersion', null);
    app.decorateReply('freshUntil', null);

    app.addHook('onSend', async (request, reply, payload) => {
      const writeAnswer = reply.resourceVersion !== null && (reply.statusCode === 200 || reply.statusCode === 201);
      const readAnswer = isCacheableRead(request, reply);
      if ((!readAnswer && !writeAnswer) || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) {
        return payload;
      }
      if (!reply.hasHeader('etag')) reply.header('etag', entityTag(payload, reply.resourceVersion));
      if (!readAnswer) return payload;

      const anonymous = request.apiKey === null && request.routeOptions.config.access === 'public';
      if (!reply.hasHeader('cache-control')) {
        reply.header('cache-control', anonymous ? publicCacheControl(reply.freshUntil) : 'private, no-cache');
      }
      addVary(reply, 'Authorization');

      if (noneMatch(request.headers['if-none-match'], String(reply.getHeader('etag')))) {
        reply.code(304);
        reply.removeHeader('content-type');
        reply.removeHeader('content-length');
        return '';
      }
      return payload;
    });
  },
  { name: 'lede-caching', dependencies: ['lede-auth'] },
);
