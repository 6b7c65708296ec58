import { sql } from 'drizzle-orm';
import { NodePgSession, NodePgTransaction } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { Database } from './database.js';

type SessionInternals = {
  dialect: ConstructorParameters<typeof NodePgTransaction>[0];
  schema: ConstructorParameters<typeof NodePgTransaction>[2];
  options: ConstructorParameters<typeof NodePgSession>[3];
  transaction: (work: (tx: NodePgTransaction<never, never>) => Promise<unknown>) => Promise<unknown>;
};

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Replaces drizzle's pooled transaction runner, which sends BEGIN outside its try/finally: when
 * the connection fails at BEGIN (an outage), the pooled connection is never released, and each
 * outage leaks a pool slot until the pool is empty for good. Here the connection is always
 * released, and destroyed rather than reused when BEGIN or ROLLBACK failed on it.
 */
export function releaseConnectionsOnFailure(db: Database, pool: pg.Pool): void {
  const session = (db as unknown as { session: SessionInternals }).session;
  session.transaction = async (work) => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const txSession = new NodePgSession(client, session.dialect, session.schema, session.options);
      const tx = new NodePgTransaction(session.dialect, txSession as never, session.schema);
      try {
        await tx.execute(sql`begin`);
      } catch (error) {
        broken = asError(error);
        throw error;
      }
      try {
        const result = await work(tx as never);
        await tx.execute(sql`commit`);
        return result;
      } catch (error) {
        try {
          await tx.execute(sql`rollback`);
        } catch (rollbackError) {
          broken = asError(rollbackError);
        }
        throw error;
      }
    } finally {
      client.release(broken);
    }
  };
}
