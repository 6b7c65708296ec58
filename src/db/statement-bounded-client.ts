import pg from 'pg';

/**
 * Named prepared statements a pooled connection keeps at most. Each costs its backend memory for
 * as long as the connection lives (0.1–0.5 MB for a list query, the most for many tags), and the
 * query shapes an anonymous client can ask for (filters present, tag count, cursor, limit bucket)
 * number in the thousands, while the hot shapes of real traffic are about ten. Past the bound
 * the least recently used is closed, so a connection holds at most about 8 MB of them.
 */
export const MAX_PREPARED_STATEMENTS_PER_CONNECTION = 16;

/** The parts of pg's connection that remember which statement names the server has parsed. */
interface ConnectionInternals {
  parsedStatements: Record<string, string>;
  close(message: { type: 'S' | 'P'; name: string }): void;
  sync(): void;
}

function statementName(config: unknown): string | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const name = (config as { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

/**
 * Drops one named statement with the protocol's Close message (then Sync), in the query queue's
 * order. Not the SQL DEALLOCATE: PgBouncer (1.21+, transaction mode) renames statements on the
 * server and tracks Parse and Close, but passes a DEALLOCATE of the client's name through to a
 * server that never heard of it, which fails and aborts the transaction it runs in. Closing a name
 * the server does not have is no error, so a statement whose Parse failed needs no special case.
 * The name is forgotten client-side in the callback, which pg calls before submitting the next
 * queued query (a promise's continuation would run too late).
 */
class Deallocation extends pg.Query {
  constructor(statement: string, done: (dropped: boolean) => void) {
    let connection: ConnectionInternals | undefined;
    super({ text: 'close' }, undefined, (error: Error | undefined) => {
      if (!error && connection) delete connection.parsedStatements[statement];
      done(!error);
    });
    (this as unknown as { submit: (c: ConnectionInternals) => null }).submit = (submittedOn) => {
      connection = submittedOn;
      submittedOn.close({ type: 'S', name: statement });
      submittedOn.sync();
      return null;
    };
  }
}

/**
 * A pg client that keeps its connection's named statements to a bound, least recently used going
 * first. The Close is queued on the same connection ahead of the query that needs the room;
 * pg runs a client's queries one at a time in order, and submits a named query's Parse only when
 * it reaches the front, so a later use of the evicted name is parsed afresh. The name is forgotten
 * on the client side only once the server has dropped it (a Close that fails leaves it known and
 * tracked, to be dropped on a later eviction).
 */
export function statementBoundedClient(maxStatements = MAX_PREPARED_STATEMENTS_PER_CONNECTION): typeof pg.Client {
  class StatementBoundedClient extends pg.Client {
    /** Names in use order, oldest first (a Map keeps insertion order). */
    readonly #named = new Map<string, true>();

    override query(...args: unknown[]): never {
      const name = statementName(args[0]);
      if (name !== undefined) this.#use(name);
      return (super.query as (...a: unknown[]) => never)(...args);
    }

    #use(name: string): void {
      if (this.#named.delete(name)) {
        this.#named.set(name, true);
        return;
      }
      this.#named.set(name, true);
      while (this.#named.size > maxStatements) {
        const oldest = this.#named.keys().next().value as string;
        this.#named.delete(oldest);
        this.#deallocate(oldest);
      }
    }

    #deallocate(name: string): void {
      super.query(
        new Deallocation(name, (dropped) => {
          if (!dropped) this.#named.set(name, true);
        }),
      );
    }
  }
  return StatementBoundedClient;
}
