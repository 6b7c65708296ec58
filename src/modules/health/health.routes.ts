import type { FastifyPluginAsyncZod } from '@fastify/type-provider-zod';
import { z } from 'zod';

const OPENAPI_TAG = 'Operations';

const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
const Readiness = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    database: z.enum(['up', 'down']),
    migrations: z.enum(['applied', 'pending', 'unknown']),
    replicas: z
      .array(
        z.object({
          name: z.string().meta({ description: 'host:port/database of a DATABASE_READ_URLS entry' }),
          state: z.enum(['up', 'lagging', 'down']).meta({ description: '`up` serves anonymous reads; `lagging` (behind by more than DATABASE_REPLICA_MAX_LAG_MS) and `down` are skipped until a check finds them well' }),
          lagMs: z.number().nullable().meta({ description: 'How far its replay was behind the primary at the last check; null when it could not be measured' }),
        }),
      )
      .meta({ description: 'The read replicas (empty without DATABASE_READ_URLS). A replica that is down or lagging costs no readiness: reads fall back to the primary.' }),
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
      summary: 'Readiness: the primary database answers and every migration is applied',
      description:
        'For a readiness probe or load balancer: 503 with the same report (and Retry-After) until the primary database is up and migrated. ' +
        'Each read replica is reported; one that is down or lagging does not make the process unready (its reads go to the primary).',
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
        replicas: app.replicaStatuses().map(({ name, state, lagMs }) => ({ name, state, lagMs })),
      };
    },
  });
};
