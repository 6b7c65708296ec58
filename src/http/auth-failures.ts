import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Database } from '../db/database.js';
import { AppError } from './app-error.js';
import { addressBucket } from './rate-limit.js';
import { databaseRateLimitStore, type Hit } from './rate-limit-store.js';

/** Counted in the rate-limit table under its own name, apart from the request limit's `ip:` buckets. */
const bucketOf = (request: FastifyRequest) => `auth-fail:${addressBucket(request.ip)}`;

export interface AuthFailureLimit {
  /** A 429 to answer at once, before any key lookup, when this process knows the address is past the limit. */
  refusal(request: FastifyRequest): AppError | null;
  /** Counts a failed authentication; a 429 to answer instead of the 401 when it went past the limit. */
  count(request: FastifyRequest): Promise<AppError | null>;
  /** Adds the failures still counted only here. */
  close(): Promise<void>;
}

/**
 * Failed authentications (an unknown, revoked or malformed key) per client address: the address
 * as the rate limit sees it (TRUST_PROXY, IPv6 per /64), counted by the rate-limit store, so the
 * count holds across every process on the database. Once past `limit` in a window, keyed requests
 * from the address are refused with 429 before any lookup, for the rest of the window: guessing
 * keys costs the guesser, not the database. Requests without a key are not affected.
 */
export function authFailureLimit(db: Database, options: { limit: number; windowMs: number; log: FastifyBaseLogger }): AuthFailureLimit {
  const counters = databaseRateLimitStore(db, { windowMs: options.windowMs, max: options.limit, log: options.log });
  const tooMany = (hit: Hit) => {
    const seconds = Math.max(1, Math.ceil(hit.ttlMs / 1000));
    return new AppError(
      'RATE_LIMITED',
      `Too many failed authentications from this address (at most ${options.limit} a window); retry in ${seconds} seconds.`,
      undefined,
      { 'retry-after': String(seconds) },
    );
  };
  return {
    refusal(request) {
      const known = counters.peek(bucketOf(request));
      return known && known.hits >= options.limit ? tooMany(known) : null;
    },
    async count(request) {
      const hit = await counters.hit(bucketOf(request));
      return hit.hits > options.limit ? tooMany(hit) : null;
    },
    close: () => counters.close(),
  };
}
