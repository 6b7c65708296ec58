import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/database.js';
import { type EventRow, eventsAfter, newestEventId } from '../modules/events/events.repository.js';
import { EVENT_TYPES } from './event-types.js';

/** Events read from the log per statement, by the hub and by a stream catching up. */
export const LIVE_PAGE = 500;

/** One open stream, as the hub sees it. */
export interface LiveFollower {
  /** The types it asked for. */
  readonly types: ReadonlySet<string>;
  /** Keyed: every event of those types; anonymous: public ones only. */
  readonly keyed: boolean;
  /** The id of the last event it has been sent or has passed over: the hub sends only newer ones. */
  lastId: number;
  /** Whether it has caught up with the log and now takes events from the hub. */
  live: boolean;
  /** Sends an encoded frame. */
  write(frame: Buffer): void;
  /**
   * Drops the stream when what its client has not taken yet outgrows its bound. Called between
   * pages and at heartbeats, after the event loop has had a turn to flush, so a burst written in
   * one go does not count against a client that reads.
   */
  checkBacklog(): void;
  /** Ends the stream (shutdown). */
  end(): void;
}

export interface LiveHubOptions {
  db: Database;
  log: FastifyBaseLogger;
  /** Comment lines this often keep proxies from closing idle streams. */
  heartbeatMs: number;
  /** Reads the log this often while streams are open, whether or not a notification came. */
  pollMs: number;
}

/** `id:`, `event:` and `data:` lines of one event; JSON has no raw newlines, so one data line. */
export function eventFrame(row: EventRow): Buffer {
  const json = JSON.stringify({ id: String(row.id), type: row.type, occurredAt: row.occurredAt.toISOString(), data: row.data });
  return Buffer.from(`id: ${row.id}\nevent: ${row.type}\ndata: ${json}\n\n`);
}

const HEARTBEAT = Buffer.from(': heartbeat\n\n');

/**
 * One reader of the change log per process, fanned out to every open stream (docs/adr/0014).
 * Woken by the change feed's announcements (from any process); a periodic read while streams are
 * open makes a lost notification cost a delay, never an event. Each event is read and encoded
 * once, whatever the number of streams.
 */
export function liveHub(options: LiveHubOptions) {
  const followers = new Set<LiveFollower>();
  let newest = 0;
  let known: Promise<void> | null = null;
  /** Set when writes came while no stream was open: the hub did not read them, so `newest` is old. */
  let stale = false;
  let reading: Promise<void> | null = null;
  let readAgain = false;
  let heartbeat: NodeJS.Timeout | null = null;
  let poll: NodeJS.Timeout | null = null;
  let stopped = false;

  async function readNew(): Promise<void> {
    for (;;) {
      const rows = await eventsAfter(options.db, { after: newest, types: [...EVENT_TYPES], all: true, limit: LIVE_PAGE });
      if (rows.length > 0) followers.forEach((follower) => follower.checkBacklog());
      for (const row of rows) {
        const frame = eventFrame(row);
        for (const follower of followers) {
          if (!follower.live || row.id <= follower.lastId) continue;
          follower.lastId = row.id;
          if ((follower.keyed || row.public) && follower.types.has(row.type)) follower.write(frame);
        }
        newest = Math.max(newest, row.id);
      }
      if (rows.length < LIVE_PAGE) return;
    }
  }

  /**
   * The log's newest id, read once at the start and again after writes went unread (no stream was
   * open): a stream without a resume point begins after it.
   */
  function knowNewest(): Promise<void> {
    if (stale) {
      stale = false;
      known = null;
    }
    known ??= newestEventId(options.db).then(
      (id) => {
        newest = Math.max(newest, id);
      },
      (error: unknown) => {
        known = null; // asked again by the next stream or wake
        throw error;
      },
    );
    return known;
  }

  /** Reads what is new, once at a time; a wake during a read makes one more. */
  function wake(): void {
    if (stopped) return;
    if (followers.size === 0) {
      stale = true;
      return;
    }
    if (reading) {
      readAgain = true;
      return;
    }
    reading = knowNewest()
      .then(readNew)
      .catch((error: unknown) => options.log.warn({ err: error }, 'live events: reading the log failed; the next wake reads again'))
      .finally(() => {
        reading = null;
        if (readAgain) {
          readAgain = false;
          wake();
        }
      });
  }

  return {
    start(): void {
      knowNewest().catch((error: unknown) => options.log.warn({ err: error }, 'live events: the newest event id could not be read; asked again later'));
      heartbeat = setInterval(() => {
        for (const follower of followers) {
          follower.checkBacklog();
          follower.write(HEARTBEAT);
        }
      }, options.heartbeatMs);
      heartbeat.unref();
      poll = setInterval(wake, options.pollMs);
      poll.unref();
    },
    wake,
    knowNewest,
    /** The newest id the hub has fanned out: everything up to it has been seen by live followers. */
    get newest() {
      return newest;
    },
    get size() {
      return followers.size;
    },
    add(follower: LiveFollower): void {
      followers.add(follower);
    },
    remove(follower: LiveFollower): void {
      followers.delete(follower);
    },
    /** Ends every stream: their clients reconnect, to another process while this one stops. */
    stop(): void {
      stopped = true;
      if (heartbeat) clearInterval(heartbeat);
      if (poll) clearInterval(poll);
      for (const follower of [...followers]) follower.end();
      followers.clear();
    },
  };
}

export type LiveHub = ReturnType<typeof liveHub>;
