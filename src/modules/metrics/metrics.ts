import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DatabaseHandle } from '../../db/database.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus registry: one per app, so apps built side by side never share counts. */
    metrics: Registry;
  }
}

/** Requests the router matched to no route are counted under this label, never their raw URL. */
export const UNMATCHED_ROUTE = 'unmatched';
const MS_PER_SECOND = 1000;
/** Seconds: most answers take a few milliseconds; the tail reaches the statement timeout. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const REQUEST_LABELS = ['method', 'route', 'status_code'] as const;

function poolGauges(registry: Registry, database: DatabaseHandle): void {
  const stats = () => database.poolStats?.() ?? null;
  if (stats() === null) return; // no pool to report (PGlite)
  const gauge = (name: string, help: string, read: (s: NonNullable<ReturnType<typeof stats>>) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const current = stats();
        if (current) this.set(read(current));
      },
    });
  gauge('lede_db_pool_connections', 'PostgreSQL connections open in the pool, idle or in use', (s) => s.total);
  gauge('lede_db_pool_idle_connections', 'PostgreSQL connections open and idle in the pool', (s) => s.idle);
  gauge('lede_db_pool_waiting_requests', 'Queries waiting for a free PostgreSQL connection', (s) => s.waiting);
}

/**
 * Prometheus metrics for the whole app: requests and their durations by method, route pattern
 * and status; database pool use; Node's default process metrics. Served by metrics.routes.ts.
 */
export const metricsPlugin = fp<{ database: DatabaseHandle }>(
  async function metrics(app: FastifyInstance, { database }) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    poolGauges(registry, database);

    const requests = new Counter({
      name: 'lede_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code',
      labelNames: REQUEST_LABELS,
      registers: [registry],
    });
    const durations = new Histogram({
      name: 'lede_http_request_duration_seconds',
      help: 'Time to answer HTTP requests, by method, route pattern and status code',
      labelNames: REQUEST_LABELS,
      buckets: DURATION_BUCKETS,
      registers: [registry],
    });

    app.decorate('metrics', registry);
    app.addHook('onResponse', async (request, reply) => {
      const labels = {
        method: request.method,
        // The pattern (`/v1/tags/:idOrSlug`), so a label never holds an id, a slug or a probe's URL.
        route: request.routeOptions.url ?? UNMATCHED_ROUTE,
        status_code: String(reply.statusCode),
      };
      requests.inc(labels);
      durations.observe(labels, reply.elapsedTime / MS_PER_SECOND);
    });
  },
  { name: 'lede-metrics' },
);
