import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import { EVENTS_APPENDED, EVERYTHING } from '../cache/content-changes.js';
import { type LiveHub, liveHub } from './live-hub.js';

/** Reads the log this often while streams are open, in case a notification was lost. */
const POLL_MS = 2_000;

export interface LiveStreams {
  hub: LiveHub;
  /** Open streams per client address (only addresses with one open: bounded by the total). */
  perAddress: Map<string, number>;
  dropped: Counter<'reason'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    liveStreams: LiveStreams;
  }
}

/**
 * The process's live event streams (docs/adr/0014-live-event-streams.md): one hub reading the log,
 * woken by every write's announcement (this process's or another's), closed before the app is.
 */
export const liveStreamsPlugin = fp(
  async function liveStreamsPlugin(app: FastifyInstance) {
    const hub = liveHub({ db: app.database.db, log: app.log, heartbeatMs: app.config.STREAM_HEARTBEAT_MS, pollMs: POLL_MS });
    new Gauge({
      name: 'lede_event_streams_open',
      help: 'Live event streams open on this process',
      registers: [app.metrics],
      collect() {
        this.set(hub.size);
      },
    });
    const dropped = new Counter({
      name: 'lede_event_streams_dropped_total',
      help: 'Live event streams closed by the server: slow (its unsent events outgrew STREAM_BUFFER_BYTES) or shutdown',
      labelNames: ['reason'] as const,
      registers: [app.metrics],
    });
    app.decorate('liveStreams', { hub, perAddress: new Map<string, number>(), dropped });
    app.changeFeed.subscribe({
      changed(keys) {
        if (keys.includes(EVENTS_APPENDED) || keys.includes(EVERYTHING)) hub.wake();
      },
      reset: () => hub.wake(),
    });
    app.addHook('onReady', () => hub.start());
    // Before Fastify waits for open requests to finish: a stream never would.
    app.addHook('preClose', async () => {
      dropped.inc({ reason: 'shutdown' }, hub.size);
      hub.stop();
    });
  },
  { name: 'lede-live-streams', dependencies: ['lede-change-feed', 'lede-database', 'lede-metrics'] },
);
