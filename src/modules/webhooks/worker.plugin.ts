import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { pendingCount } from './delivery-queue.js';
import { webhookMetrics } from './webhook-metrics.js';
import { DEFAULT_DELIVERY_LIMITS, type DeliveryLimits, webhookWorker } from './worker.js';

/** Announced (through the change feed) by every change to a webhook: each process's worker looks again. */
export const WEBHOOKS_CHANGED = 'webhooks';

/**
 * Runs the delivery worker in this process from the moment the app is ready until it closes.
 * Closing stops it before the database closes: sends in flight are cut short and handed back.
 */
export const webhookWorkerPlugin = fp<{ limits?: Partial<DeliveryLimits> }>(
  async function webhookWorkerPlugin(app: FastifyInstance, options) {
    const limits: DeliveryLimits = {
      ...DEFAULT_DELIVERY_LIMITS,
      retryBaseMs: app.config.WEBHOOK_RETRY_BASE_MS,
      allowPrivateTargets: app.config.WEBHOOKS_ALLOW_PRIVATE_TARGETS,
      ...options.limits,
    };
    const db = app.database.db;
    const metrics = webhookMetrics(app.metrics, () => pendingCount(db));
    const worker = webhookWorker(db, limits, app.log, metrics);
    app.changeFeed.subscribe({
      // A write may have added events; only worth a pass while some webhook follows them.
      changed(keys) {
        if (worker.following || keys.includes(WEBHOOKS_CHANGED)) worker.wake();
      },
      reset: () => worker.wake(),
    });
    app.addHook('onReady', () => worker.start());
    app.addHook('preClose', () => worker.stop());
  },
  { name: 'lede-webhook-worker', dependencies: ['lede-metrics', 'lede-change-feed', 'lede-database'] },
);
