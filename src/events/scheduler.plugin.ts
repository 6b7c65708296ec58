import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { EVERYTHING } from '../cache/content-changes.js';
import { goLiveEvents } from './article-events.js';
import { eventScheduler } from './scheduler.js';

declare module 'fastify' {
  interface FastifyInstance {
    eventScheduler: ReturnType<typeof eventScheduler>;
  }
}

/**
 * Runs the event scheduler (docs/adr/0013-scheduled-go-live.md) from the moment the app is ready
 * until it closes. A change to articles (this process's or another's) may move the next
 * scheduled publication, so it looks again.
 */
export const eventSchedulerPlugin = fp(
  async function eventSchedulerPlugin(app: FastifyInstance) {
    const scheduler = eventScheduler({
      db: app.database.db,
      changes: app.contentChanges,
      goLiveEvents: (tx, articleId) => goLiveEvents(tx, articleId, app.siteUrls),
      retentionDays: app.config.EVENTS_RETENTION_DAYS,
      log: app.log,
    });
    app.decorate('eventScheduler', scheduler);
    app.changeFeed.subscribe({
      changed(keys) {
        if (keys.includes('articles') || keys.includes(EVERYTHING)) scheduler.wake();
      },
      reset: () => scheduler.wake(),
    });
    app.addHook('onReady', () => scheduler.start());
    app.addHook('preClose', () => scheduler.stop());
  },
  { name: 'lede-event-scheduler', dependencies: ['lede-change-feed', 'lede-database'] },
);
