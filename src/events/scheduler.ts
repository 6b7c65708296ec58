import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { ContentChanges } from '../cache/content-changes.js';
import type { Database } from '../db/database.js';
import { sweepExpired } from '../modules/events/events.repository.js';
import { sweepFinishedDeliveries } from '../modules/webhooks/delivery-retention.js';
import type { EventDraft } from './event-types.js';

/** Held for one tick's transaction by the process announcing; any other skips that tick. */
const SCHEDULER_LOCK = 7312025002;
/** The longest wait between two looks, whatever the schedule says (a missed notification heals). */
const MAX_WAIT_MS = 60_000;
/** After a failed look (the database away), the next one. */
const RETRY_MS = 5_000;
const SWEEP_EVERY_MS = 10 * 60_000;
const MIN_LOOK_INTERVAL_MS = 1_000;
const SWEEP_BATCH = 5_000;
const SWEEP_ROUNDS = 20;

export interface SchedulerOptions {
  db: Database;
  changes: ContentChanges;
  /** The events of one article going live at its scheduled time (its `article.published`, its entries). */
  goLiveEvents: (tx: Database, articleId: string) => Promise<EventDraft[]>;
  retentionDays: number;
  log: FastifyBaseLogger;
}

/**
 * The change log's timed work (docs/adr/0013-scheduled-go-live.md), in every process. A timer
 * waits for the earliest scheduled publication (looked up again after every write this process
 * hears of, and at least once a minute); when it fires, whichever process takes the advisory lock
 * flips the articles whose time has come to `published` and appends their `article.published` in
 * that transaction. The update matches each article once, so each is announced once whatever the
 * number of processes, and the others find nothing left when they get the lock.
 */
export function eventScheduler(options: SchedulerOptions) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let lastLookAt = 0;
  let soonTimer: NodeJS.Timeout | undefined;
  let stopped = true;
  let lastSweep = Date.now();

  async function inBatches(sweep: (batch: number) => Promise<number>): Promise<number> {
    let removed = 0;
    for (let round = 0; round < SWEEP_ROUNDS; round += 1) {
      const batch = await sweep(SWEEP_BATCH);
      removed += batch;
      if (batch < SWEEP_BATCH) break;
    }
    return removed;
  }

  /** Milliseconds until the earliest scheduled article is due (0 or less: due now); null: none. */
  async function msUntilDue(): Promise<number | null> {
    const result = await options.db.execute(sql`
      select extract(epoch from (min(published_at) - now())) * 1000 as ms_left
      from articles where status = 'scheduled' and deleted_at is null`);
    const msLeft = (result as unknown as { rows: { ms_left: string | number | null }[] }).rows[0]?.ms_left;
    return msLeft === null || msLeft === undefined ? null : Number(msLeft);
  }

  /** Announces the articles whose time has come; 0 when there are none or another process has the tick. */
  async function announceDue(): Promise<number> {
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
        changed(...drafts.flatMap((draft) => draft.data.surrogateKeys));
        emit(...drafts);
      }
      return ids.length;
    });
  }

  async function sweepIfDue(): Promise<void> {
    if (Date.now() - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = Date.now();
    // Batches, each its own short transaction; a large backlog takes a few sweeps.
    const removed = await inBatches((batch) => sweepExpired(options.db, options.retentionDays, batch));
    const deliveries = await inBatches((batch) => sweepFinishedDeliveries(options.db, options.retentionDays, batch));
    if (removed + deliveries > 0) options.log.info({ removed, deliveries }, 'events and finished webhook deliveries past the retention removed');
  }

  /** Announces what is due, then waits for what is next. */
  async function look(): Promise<void> {
    let wait = MAX_WAIT_MS;
    try {
      let msLeft = await msUntilDue();
      if (msLeft !== null && msLeft <= 0) {
        const announced = await announceDue();
        if (announced > 0) options.log.info({ announced }, 'scheduled articles went live');
        msLeft = await msUntilDue();
      }
      await sweepIfDue();
      // Due already (another process holds the tick) or soon: look again then, at most a minute on.
      if (msLeft !== null) wait = Math.min(MAX_WAIT_MS, Math.max(msLeft <= 0 ? 250 : msLeft, 0));
    } catch (error) {
      options.log.warn({ err: error }, 'event scheduler: look failed; trying again shortly');
      wait = RETRY_MS;
    }
    if (!stopped) {
      clearTimeout(timer);
      timer = setTimeout(wake, wait);
      timer.unref();
    }
  }

  /**
   * Looks now, or right after the look in progress (a write may have changed the schedule). At
   * most one look a second: under a burst of writes the schedule is read once, not per write, and
   * an article scheduled less than a second ahead is announced at most that second late.
   */
  function wake(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    const sinceLast = Date.now() - lastLookAt;
    if (sinceLast < MIN_LOOK_INTERVAL_MS) {
      if (!soonTimer) {
        soonTimer = setTimeout(() => {
          soonTimer = undefined;
          wake();
        }, MIN_LOOK_INTERVAL_MS - sinceLast);
        soonTimer.unref();
      }
      return;
    }
    lastLookAt = Date.now();
    running = look().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        wake();
      }
    });
  }

  return {
    start(): void {
      stopped = false;
      wake();
    },
    wake,
    /** Removes what is past the retention now (tests; the timer does it every ten minutes). */
    sweep: async () => {
      lastSweep = 0;
      await sweepIfDue();
    },
    /** Stops the timer and waits for a look in progress. */
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(soonTimer);
      await running;
    },
  };
}
