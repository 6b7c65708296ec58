import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';

const OPENAPI_TAG = 'Operations';

const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
const Readiness = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    database: z.enum(['up', 'down']),
    migrations: z.enum(['applied', 'pending', 'unknown']),
  })
  .meta({ id: 'Readiness' });

const READINESS_RETRY_AFTER_SECONDS = '5';

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/healthz', {
    config: { access: 'public' },
    schema: {
      summary: 'Liveness: the process answers',
      description: "For an orchestrator's liveness probe: answers without touching the database, never counted by the rate limit.",
      operationId: 'health',
      tags: [OPENAPI_TAG],
      response: { 200: Health },
    },
    handler: async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return { status: 'ok' as const };
    },
  });

  app.get('/readyz', {
    config: { access: 'public' },
    schema: {
      summary: 'Readiness: the database answers and every migration is applied',
      description: 'For a readiness probe or load balancer: 503 with the same report (and Retry-After) until the database is up and migrated.',
      operationId: 'ready',
      tags: [OPENAPI_TAG],
      response: { 200: Readiness, 503: Readiness },
    },
    handler: async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      let databaseUp = true;
      try {
        await app.database.ping();
      } catch {
        databaseUp = false;
      }
      const migrated = databaseUp ? await app.database.migrationsApplied() : false;
      const ready = databaseUp && migrated;
      if (!ready) reply.code(503).header('retry-after', READINESS_RETRY_AFTER_SECONDS);
      return {
        status: ready ? ('ready' as const) : ('unavailable' as const),
        database: databaseUp ? ('up' as const) : ('down' as const),
        migrations: !databaseUp ? ('unknown' as const) : migrated ? ('applied' as const) : ('pending' as const),
      };
    },
  });
};
