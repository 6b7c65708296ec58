import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { DatabaseHandle } from './database.js';

declare module 'fastify' {
  interface FastifyInstance {
    database: DatabaseHandle;
  }
}

/** Shares the database with every module and closes it when the app closes (after in-flight requests). */
export const databasePlugin = fp<{ database: DatabaseHandle }>(
  async function database(app: FastifyInstance, { database }) {
    app.decorate('database', database);
    app.addHook('onClose', async () => {
      await database.close();
    });
  },
  { name: 'lede-database' },
);
