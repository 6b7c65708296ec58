import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { Database } from '../db/database.js';

/** Expired windows are swept at most this often per process, by the request that finds it due. */
export const CLEANUP_INTERVAL_MS = 60_000;
/** Rows deleted per sweep: bounded, so one sweep never turns into a long request. */
const CLEANUP_BATCH = 1_000;

export interface Hit {
  /** Requests counted in the current window, this one included. */
  hits: number;
  /** Milliseconds until the window ends. */
  ttlMs: number;
}

/**
 * Counts one request against a bucket in one atomic statement. Windows are fixed and cut by the
 * database clock (date_bin from the epoch), so every process agrees on where a window starts; a
 * row left over from an earlier window starts again at `count`. `count` > 1 adds hits counted
 * locally since the last call.
 */
export async function countHit(db: Database, bucket: string, windowMs: number, count = 1): Promise<Hit> {
  const result = await db.execute(sql`
    insert into rate_limits as r (bucket, window_start, hits, expires_at)
    select ${bucket}, w.start, ${count}::integer, w.start + w.stride
    from (
      select date_bin(s.stride, now(), timestamptz '1970-01-01 00:00:00+00') as start, s.stride
      from (select ${windowMs}::integer * interval '1 millisecond' as stride) s
    ) w
    on conflict (bucket) do update set
      hits = case when r.window_start = excluded.window_start then r.hits + excluded.hits else excluded.hits end,
      window_start = excluded.window_start,
      expires_at = excluded.expires_at
    returning r.hits as hits,
      greatest(0, ceil(extract(epoch from r.expires_at - now()) * 1000))::integer as ttl_ms
  `);
  const row = (result as unknown as { rows: { hits: number; ttl_ms: number }[] }).rows[0];
  if (!row) throw new Error('rate limit upsert returned no row');
  return { hits: Number(row.hits), ttlMs: Number(row.ttl_ms) };
}

/**
 * Deletes up to one batch of windows that have ended. SKIP LOCKED lets several processes sweep at
 * once without waiting on each other or on a request counting into a row.
 */
export async function deleteExpiredWindows(db: Database): Promise<number> {
  const result = await db.execute(sql`
    delete from rate_limits where bucket in (
      select bucket from rate_limits where expires_at < now()
      limit ${sql.raw(String(CLEANUP_BATCH))} for update skip locked
    )
  `);
  const { rowCount, affectedRows } = result as unknown as { rowCount?: number | null; affectedRows?: number };
  return rowCount ?? affectedRows ?? 0;
}

type Callback = Parameters<FastifyRateLimitStore['incr']>[1];

/** Hits counted in this process and not yet added to the database, at most this long. */
export const FLUSH_INTERVAL_MS = 1_000;
/**
 * A request may be counted locally only while this process's unflushed hits stay under this
 * fraction of what is left of the limit; closer to the limit every request goes to the database.
 * With fewer than 1 / LOCAL_SHARE processes the limit therefore holds exactly; with more, one
 * flush interval's worth of hits can slip past before every process sees them.
 */
export const LOCAL_SHARE = 0.1;
/**
 * Buckets (clients) tracked in memory at most. Past it a new bucket is counted in the database
 * only, every hit a round trip, until ended windows make room: the limit still holds, and a flood
 * of distinct addresses cannot grow the process without bound.
 */
export const MAX_TRACKED_BUCKETS = 100_000;

interface BucketState {
  /** The window's hits in the database as of the last round trip, all processes included. */
  known: number;
  /** Hits counted here since then. */
  pending: number;
  /** When the window ends, by this process's clock (database ttl added to the time it was read). */
  windowEndsAt: number;
}

/**
 * A store for @fastify/rate-limit that keeps its counters in the database (the `rate_limits`
 * table), so the limit holds across every process sharing it: N processes with in-memory
 * counters would allow N times the limit. Far from the limit, hits are counted in memory and added
 * to the database in one statement per bucket every FLUSH_INTERVAL_MS (a busy anonymous reader
 * costs one statement a second, not one per request); near it, every hit is a round trip.
 */
export function databaseRateLimitStore(
  db: Database,
  options: { windowMs: number; max: number; log: FastifyBaseLogger; maxBuckets?: number },
) {
  let lastCleanup = Date.now();
  const buckets = new Map<string, BucketState>();
  const maxBuckets = options.maxBuckets ?? MAX_TRACKED_BUCKETS;

  async function sweepIfDue(): Promise<void> {
    const now = Date.now();
    if (now - lastCleanup < CLEANUP_INTERVAL_MS) return;
    lastCleanup = now;
    try {
      await deleteExpiredWindows(db);
    } catch (error) {
      // Leftover rows only cost space; the next sweep gets them.
      options.log.warn({ err: error }, 'rate limit cleanup failed');
    }
  }

  async function roundTrip(bucket: string, count: number, windowMs: number): Promise<Hit> {
    const hit = await countHit(db, bucket, windowMs, count);
    const state = buckets.get(bucket);
    if (state || buckets.size < maxBuckets) {
      buckets.set(bucket, { known: hit.hits, pending: state?.pending ?? 0, windowEndsAt: Date.now() + hit.ttlMs });
    }
    return hit;
  }

  /** Counts one hit: in memory while far from the limit, else (or for a new bucket) a round trip. */
  function count(bucket: string, windowMs: number): Hit | Promise<Hit> {
    const state = buckets.get(bucket);
    const now = Date.now();
    if (state && state.windowEndsAt > now) {
      const counted = state.known + state.pending;
      if (state.pending + 1 < (options.max - counted) * LOCAL_SHARE) {
        state.pending += 1;
        return { hits: counted + 1, ttlMs: state.windowEndsAt - now };
      }
    }
    const pending = (state && state.windowEndsAt > now ? state.pending : 0) + 1;
    if (state) state.pending = 0;
    return roundTrip(bucket, pending, windowMs);
  }

  async function flush(): Promise<void> {
    const now = Date.now();
    const due: [string, number][] = [];
    for (const [bucket, state] of buckets) {
      if (state.windowEndsAt <= now) buckets.delete(bucket); // its hits belonged to an ended window
      else if (state.pending > 0) {
        due.push([bucket, state.pending]);
        state.pending = 0;
      }
    }
    for (const [bucket, count] of due) {
      try {
        await roundTrip(bucket, count, options.windowMs);
      } catch (error) {
        // Those hits are forgiven; the next request near the limit asks the database anyway.
        options.log.warn({ err: error, bucket }, 'rate limit flush failed');
      }
    }
    await sweepIfDue();
  }

  let flushing: Promise<void> | null = null;
  const timer = setInterval(() => {
    flushing ??= flush().finally(() => {
      flushing = null;
    });
  }, FLUSH_INTERVAL_MS);
  timer.unref();

  return {
    /** Stops the timer and adds what is still pending, so a stopping process forgives nothing. */
    async close(): Promise<void> {
      clearInterval(timer);
      await flushing;
      await flush();
    },

    /** Counts one hit against `bucket`, as the Store does for @fastify/rate-limit. */
    async hit(bucket: string): Promise<Hit> {
      return count(bucket, options.windowMs);
    },

    /** What this process knows of the bucket's current window, without a round trip; null if nothing. */
    peek(bucket: string): Hit | null {
      const state = buckets.get(bucket);
      const now = Date.now();
      if (!state || state.windowEndsAt <= now) return null;
      return { hits: state.known + state.pending, ttlMs: state.windowEndsAt - now };
    },

    /** Buckets held in memory (bounded by maxBuckets). */
    get trackedBuckets(): number {
      return buckets.size;
    },

    Store: class DatabaseRateLimitStore implements FastifyRateLimitStore {
      incr(bucket: string, callback: Callback, timeWindow?: number): void {
        const counted = count(bucket, timeWindow ?? options.windowMs);
        if (!(counted instanceof Promise)) {
          callback(null, { current: counted.hits, ttl: counted.ttlMs });
          return;
        }
        counted.then(
          (hit) => callback(null, { current: hit.hits, ttl: hit.ttlMs }),
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      }

      /** One table and one limit for every route: a caller's requests all count together. */
      child(): FastifyRateLimitStore {
        return this;
      }
    },
  };
}
