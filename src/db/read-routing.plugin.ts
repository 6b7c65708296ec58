import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../config.js';
import type { Database, DatabaseHandle } from './database.js';
import type { PostgresHandle } from './postgres.js';
import { openReplicaSet, type ReplicaSet, type ReplicaStatus } from './replicas.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The database a request's reads use: a streaming replica that has replayed every change
     * this process has heard of, for an anonymous reader; the primary otherwise (keyed readers
     * read their own writes). Pick it in the handler, after the response cache's lookup.
     */
    readDb(request: FastifyRequest): Database;
    /** Each replica's state, for /readyz; empty without DATABASE_READ_URLS. */
    replicaStatuses(): ReplicaStatus[];
  }
}

const PRIMARY_TARGET = 'primary';

function isPostgres(database: DatabaseHandle): database is PostgresHandle {
  return database.kind === 'postgres' && 'pool' in database;
}

/** DATABASE_READ_URLS: anonymous reads on replicas (docs/adr/0016-read-replicas.md). */
export const readRoutingPlugin = fp<{ config: Config; database: DatabaseHandle }>(
  async function readRouting(app: FastifyInstance, { config, database }) {
    const primary = database.db;
    if (config.DATABASE_READ_URLS.length === 0 || !isPostgres(database)) {
      app.decorate('readDb', () => primary);
      app.decorate('replicaStatuses', () => []);
      return;
    }
    const replicas: ReplicaSet = await openReplicaSet({
      urls: config.DATABASE_READ_URLS,
      primary: database,
      maxLagMs: config.DATABASE_REPLICA_MAX_LAG_MS,
      poolMax: config.DATABASE_POOL_MAX,
      log: app.log,
    });
    app.addHook('onClose', () => replicas.close());
    const feed = app.changeFeed;
    feed.subscribe({ changed: () => replicas.raiseFence(), reset: () => replicas.raiseFence() });

    const reads = new Counter({
      name: 'lede_db_anonymous_reads_total',
      help: 'Anonymous requests by the database that served their reads: a replica (host:port/database) or the primary',
      labelNames: ['target'],
      registers: [app.metrics],
    });
    new Gauge({
      name: 'lede_db_replica_up',
      help: 'Whether a read replica may serve reads: 1 up, 0 down or lagging past DATABASE_REPLICA_MAX_LAG_MS',
      labelNames: ['replica'],
      registers: [app.metrics],
      collect() {
        for (const status of replicas.statuses()) this.set({ replica: status.name }, status.state === 'up' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'lede_db_replica_lag_seconds',
      help: "How far a read replica's replay was behind the primary at its last check",
      labelNames: ['replica'],
      registers: [app.metrics],
      collect() {
        for (const status of replicas.statuses()) if (status.lagMs !== null) this.set({ replica: status.name }, status.lagMs / 1000);
      },
    });

    app.decorate('readDb', (request: FastifyRequest) => {
      // Unheard announcements would leave the fence behind: while not listening, the primary.
      if (request.apiKey !== null || !feed.listening) return primary;
      const target = replicas.pick();
      reads.inc({ target: target.replica ?? PRIMARY_TARGET });
      return target.db;
    });
    app.decorate('replicaStatuses', () => replicas.statuses());
  },
  { name: 'lede-read-routing', dependencies: ['lede-change-feed', 'lede-metrics'] },
);
