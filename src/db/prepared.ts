import { sql } from 'drizzle-orm';
import type { Database } from './database.js';

/** Puts a value into a query: inline for a one-off, or as a named placeholder for a prepared statement. */
export type Bind = (name: string, value: unknown) => unknown;
export const inline: Bind = (_name, value) => value;
export const placeholder: Bind = (name) => sql.placeholder(name);

/**
 * Prepared statements built once per database (or transaction) and query shape: building SQL
 * with drizzle cost more CPU than PostgreSQL spent running it (docs/performance.md). The shape
 * key must cover everything that changes the SQL text, the limit included, so each statement
 * always runs with one limit; its plans were checked at full size after repeated executions.
 * `name` prefixes the statement names PostgreSQL sees.
 */
export function preparedStatements<Statement>(name: string) {
  const byDatabase = new WeakMap<Database, Map<string, Statement>>();
  return (db: Database, shape: string, prepare: (statementName: string) => Statement): Statement => {
    let byShape = byDatabase.get(db);
    if (!byShape) byDatabase.set(db, (byShape = new Map()));
    let statement = byShape.get(shape);
    if (!statement) byShape.set(shape, (statement = prepare(`${name}_${shape}`)));
    return statement;
  };
}
