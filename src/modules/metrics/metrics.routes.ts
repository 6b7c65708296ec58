import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';

const OPENAPI_TAG = 'Operations';
const MetricsText = z.string().meta({ description: 'Prometheus text exposition format 0.0.4' });

/**
 * GET /metrics. Public, like the probes: it shows traffic and process figures, no content and no
 * keys. Where those figures are not for everyone, block the path at the proxy (README: Metrics).
 */
export const metricsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/metrics', {
    config: { access: 'public' },
    schema: {
      summary: 'Prometheus metrics: requests by route and status, database pool, process',
      description: 'For a Prometheus scrape: requests by route and status, the database pool, the response cache and the process.',
      operationId: 'metrics',
      tags: [OPENAPI_TAG],
      produces: ['text/plain'],
      response: { 200: MetricsText },
    },
    handler: async (_request, reply) => {
      const text = await app.metrics.metrics();
      return reply
        .header('cache-control', 'no-store')
        .type(app.metrics.contentType)
        .serializer((payload: unknown) => payload as string)
        .send(text);
    },
  });
};
