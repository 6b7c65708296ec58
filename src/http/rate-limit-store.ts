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
 * row left over from an earlier window starts again at 1.
 */
export async function countHit(db: Database, bucket: string, windowMs: number): Promise<Hit> {
  const result = await db.execute(sql`
    insert into rate_limits as r (bucket, window_start, hits, expires_at)
    select ${bucket}, w.start, 1, w.start + w.stride
    from (
      select date_bin(s.stride, now(), timestamptz '1970-01-01 00:00:00+00') as start, s.stride
      from (select ${windowMs}::integer * interval '1 millisecond' as stride) s
    ) w
    on conflict (bucket) do update set
      hits = case when r.window_start = excluded.window_start then r.hits + 1 else 1 end,
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

/**
 * A store for @fastify/rate-limit that keeps its counters in the database (the `rate_limits`
 * table), so the limit holds across every process sharing it: N processes with in-memory
 * counters would allow N times the limit.
 */
export function databaseRateLimitStore(db: Database, options: { windowMs: number; log: FastifyBaseLogger }) {
  let lastCleanup = Date.now();

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

  return class DatabaseRateLimitStore implements FastifyRateLimitStore {
    incr(bucket: string, callback: Callback, timeWindow?: number): void {
      countHit(db, bucket, timeWindow ?? options.windowMs).then(
        async (hit) => {
          await sweepIfDue();
          callback(null, { current: hit.hits, ttl: hit.ttlMs });
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }

    /** One table and one limit for every route: a caller's requests all count together. */
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}
