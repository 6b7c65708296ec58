import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { DatabaseHandle } from '../db/database.js';
import { CONTENT_CHANNEL, type ContentChanges, contentChanges, newInstanceId, parseAnnouncement } from './content-changes.js';

/** Something kept in this process that a write (here or in another process) can make stale. */
export interface ChangeSubscriber {
  /** These keys changed (EVERYTHING among them: anything may have). */
  changed(keys: string[]): void;
  /** Announcements may have been missed: drop everything. */
  reset(): void;
}

export interface ChangeFeed {
  /**
   * Whether announcements from other processes are being heard. In-process copies may be used
   * only while this is true: otherwise a write elsewhere could go unnoticed.
   */
  readonly listening: boolean;
  subscribe(subscriber: ChangeSubscriber): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    changeFeed: ChangeFeed;
    /** Every write that changes what readers see, or revokes a key, goes through this (see ContentChanges). */
    contentChanges: ContentChanges;
  }
}

/**
 * One LISTEN per process for everything kept in memory (the response cache, resolved API keys):
 * writes announce what they changed with pg_notify inside their transaction; this process applies
 * its own announcements at once (before answering) and others' when they arrive.
 */
export const changeFeedPlugin = fp<{ database: DatabaseHandle }>(
  async function changeFeed(app: FastifyInstance, { database }) {
    const instanceId = newInstanceId();
    const subscribers: ChangeSubscriber[] = [];
    let listening = false;
    const dispatch = (keys: string[]) => subscribers.forEach((subscriber) => subscriber.changed(keys));
    const reset = () => subscribers.forEach((subscriber) => subscriber.reset());

    app.decorate('changeFeed', {
      get listening() {
        return listening;
      },
      subscribe(subscriber: ChangeSubscriber) {
        subscribers.push(subscriber);
      },
    });
    app.decorate('contentChanges', contentChanges(database.db, instanceId, dispatch));

    const stopListening = await database.listen(CONTENT_CHANNEL, {
      notification(payload) {
        const announcement = parseAnnouncement(payload);
        if (!announcement) return reset();
        if (announcement.from !== instanceId) dispatch(announcement.keys);
      },
      connected() {
        // Whatever was announced while not listening is unknown.
        reset();
        listening = true;
      },
      lost() {
        listening = false;
        reset();
      },
    });
    app.addHook('onClose', async () => {
      listening = false;
      await stopListening();
    });
  },
  { name: 'lede-change-feed' },
);
