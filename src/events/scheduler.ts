import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { ContentChanges } from '../cache/content-changes.js';
import type { Database } from '../db/database.js';
import { sweepExpired } from '../modules/events/events.repository.js';
import type { EventDraft } from './event-types.js';

/** Held for one tick's transaction by the process doing the log's timed work; any other skips it. */
const SCHEDULER_LOCK = 7312025002;
export const TICK_MS = 1_000;
const SWEEP_EVERY_MS = 10 * 60_000;
const SWEEP_BATCH = 5_000;
const SWEEP_ROUNDS = 20;

export interface SchedulerOptions {
  db: Database;
  changes: ContentChanges;
  /** The events of one article going live at its scheduled time (its `article.published`, its entries). */
  goLiveEvents: (tx: Database, articleId: string) => Promise<EventDraft[]>;
  retentionDays: number;
  log: FastifyBaseLogger;
  tickMs?: number;
}

/**
 * The change log's timed work, in every process, done by one at a time: each tick takes a
 * transaction-scoped advisory lock with `pg_try_advisory_xact_lock`, so whichever process gets it
 * does the tick and the others skip it; when that process dies the next tick of another takes
 * over. Scheduled articles whose time has come become `published` in the same transaction that
 * appends their `article.published`: the update matches each article once, so the announcement
 * is made once whatever the number of processes (docs/adr/0013-scheduled-go-live.md).
 */
export function eventScheduler(options: SchedulerOptions) {
  const tickMs = options.tickMs ?? TICK_MS;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let lastSweep = 0;

  async function dueArticles(): Promise<boolean> {
    const result = await options.db.execute(
      sql`select exists (select 1 from articles where status = 'scheduled' and deleted_at is null and published_at <= now()) as due`,
    );
    return Boolean((result as unknown as { rows: { due: boolean }[] }).rows[0]?.due);
  }

  /** Announces the articles whose time has come; returns how many (0 when another process holds the tick). */
  async function announceDue(): Promise<number> {
    if (!(await dueArticles())) return 0;
    return options.changes.write(async (tx, changed, emit) => {
      const lock = await tx.execute(sql`select pg_try_advisory_xact_lock(${SCHEDULER_LOCK}) as held`);
      if (!(lock as unknown as { rows: { held: boolean }[] }).rows[0]?.held) return 0;
      const went = await tx.execute(sql`
        update articles set status = 'published'
        where status = 'scheduled' and deleted_at is null and published_at <= now()
        returning id`);
      const ids = (went as unknown as { rows: { id: string }[] }).rows.map((row) => row.id);
      for (const id of ids) {
        const drafts = await options.goLiveEvents(tx, id);
        emit(...drafts);
        changed(...drafts.flatMap((draft) => draft.data.surrogateKeys));
      }
      return ids.length;
    });
  }

  async function sweepIfDue(): Promise<void> {
    if (Date.now() - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = Date.now();
    // Batches of SWEEP_BATCH, each its own short transaction; a large backlog takes a few ticks.
    let removed = 0;
    for (let round = 0; round < SWEEP_ROUNDS; round += 1) {
      const batch = await sweepExpired(options.db, options.retentionDays, SWEEP_BATCH);
      removed += batch;
      if (batch < SWEEP_BATCH) break;
    }
    if (removed > 0) options.log.info({ removed }, 'events past the retention removed');
  }

  async function tick(): Promise<void> {
    try {
      const announced = await announceDue();
      if (announced > 0) options.log.info({ announced }, 'scheduled articles went live');
      await sweepIfDue();
    } catch (error) {
      // The next tick tries again: an announcement is made by the update that flips the status,
      // so nothing is lost or doubled by a failed tick.
      options.log.warn({ err: error }, 'event scheduler tick failed');
    }
  }

  return {
    start(): void {
      if (timer) return;
      timer = setInterval(() => {
        if (running) return;
        running = tick().finally(() => (running = undefined));
      }, tickMs);
      timer.unref();
    },
    /** Stops the timer and waits for a tick in progress. */
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
    /** One tick now (tests). */
    tick,
    announceDue,
  };
}
