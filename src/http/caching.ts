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

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = `(${MONTHS.join('|')})`;
const TIME = '(\\d\\d):(\\d\\d):(\\d\\d)';
/** The three forms RFC 9110 (5.6.7) has recipients accept, each as a whole field value. */
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d\\d) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC_850 = new RegExp(`^${LONG_DAY}, (\\d\\d)-${MONTH}-(\\d\\d) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

function utc(year: number, month: string, day: number, hours: string, minutes: string, seconds: string): Date | null {
  const monthIndex = MONTHS.indexOf(month);
  const time = Date.UTC(year, monthIndex, day, Number(hours), Number(minutes), Number(seconds));
  const date = new Date(time);
  // Date.UTC rolls 31 Feb over into March: such a date is not one.
  const exact = date.getUTCDate() === day && date.getUTCMonth() === monthIndex && Number(hours) < 24 && Number(minutes) < 60 && Number(seconds) < 61;
  return exact ? date : null;
}

/**
 * An HTTP-date, or null. Date.parse is not used: it takes ISO and local-time forms no client
 * sends, and reads asctime (which has no zone) as local time, where HTTP means GMT.
 */
export function httpDate(value: string): Date | null {
  const text = value.trim();
  let match = IMF_FIXDATE.exec(text);
  if (match) return utc(Number(match[3]), match[2]!, Number(match[1]), match[4]!, match[5]!, match[6]!);
  match = RFC_850.exec(text);
  if (match) {
    // Two-digit years more than 50 years ahead are in the past century (RFC 9110).
    const twoDigits = Number(match[3]);
    const thisYear = new Date().getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + twoDigits;
    if (year > thisYear + 50) year -= 100;
    return utc(year, match[2]!, Number(match[1]), match[4]!, match[5]!, match[6]!);
  }
  match = ASCTIME.exec(text);
  if (match) return utc(Number(match[6]), match[1]!, Number(match[2]!.trim()), match[3]!, match[4]!, match[5]!);
  return null;
}

/**
 * Whether a response last modified at `lastModified` is newer than the client's copy dated by
 * If-Modified-Since: compared to the second, the precision of the header. A header that is not
 * an HTTP-date asks for the whole answer (RFC 9110 13.1.3: it is ignored).
 */
export function modifiedSince(ifModifiedSince: string, lastModified: Date): boolean {
  const since = httpDate(ifModifiedSince);
  if (since === null) return true;
  return Math.floor(lastModified.getTime() / 1000) > Math.floor(since.getTime() / 1000);
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

/**
 * An answer carrying Last-Modified (the feeds) is current for a client whose If-Modified-Since is
 * as new. That header counts only without If-None-Match, the exact validator (RFC 9110 13.2.2).
 */
function unchangedSince(request: FastifyRequest, reply: FastifyReply): boolean {
  const since = request.headers['if-modified-since'];
  const lastModified = reply.getHeader('last-modified');
  if (request.headers['if-none-match'] !== undefined || since === undefined || lastModified === undefined) return false;
  const date = httpDate(String(lastModified));
  return date !== null && !modifiedSince(since, date);
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

      if (noneMatch(request.headers['if-none-match'], String(reply.getHeader('etag'))) || unchangedSince(request, reply)) {
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
