import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AttemptResult } from './delivery-queue.js';

/** Seconds from an event to its delivery: most within a second, retried ones hours later. */
const LAG_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400];

/** The webhook worker's metrics, on the app's registry (README: Metrics). */
export function webhookMetrics(registry: Registry, queueDepth: () => Promise<number>) {
  const attempts = new Counter({
    name: 'lede_webhook_deliveries_total',
    help: 'Webhook delivery attempts by result: delivered, retry_scheduled, or failed (retries used up)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'lede_webhook_queue_depth',
    help: 'Webhook deliveries waiting to be sent (due or scheduled for a retry)',
    registers: [registry],
    async collect() {
      this.set(await queueDepth());
    },
  });
  const lag = new Histogram({
    name: 'lede_webhook_delivery_lag_seconds',
    help: 'Time from an event to its successful delivery, retries included',
    buckets: LAG_BUCKETS,
    registers: [registry],
  });
  return {
    attempted(result: AttemptResult, eventOccurredAt: Date) {
      attempts.inc({ result });
      if (result === 'delivered') lag.observe(Math.max(0, Date.now() - eventOccurredAt.getTime()) / 1000);
    },
  };
}
export type WebhookMetrics = ReturnType<typeof webhookMetrics>;
