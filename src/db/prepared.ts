import { sql } from 'drizzle-orm';
import type { Database } from './database.js';

/** Puts a value into a query: inline for a one-off, or as a named placeholder for a prepared statement. */
export type Bind = (name: string, value: unknown) => unknown;
export const inline: Bind = (_name, value) => value;
export const placeholder: Bind = (name) => sql.placeholder(name);

/** Row counts a prepared page query asks for: a page's limit plus one, rounded up to one of these. */
const LIMIT_BUCKETS = [11, 21, 51, 101];

/**
 * The LIMIT a prepared statement runs with for `rows` wanted: a few fixed values rather than any
 * of 100 (each its own statement), and inlined rather than a parameter, whose generic plan once
 * switched to parallel workers. The caller drops the rows beyond `rows`.
 */
export function limitBucket(rows: number): number {
  return LIMIT_BUCKETS.find((bucket) => bucket >= rows) ?? rows;
}

/**
 * A row count written into the SQL text. Drizzle sends `.limit(n)` as a parameter, and a prepared
 * statement with a parameter in its LIMIT never settles on its generic plan (the planner cannot
 * cost an unknown LIMIT), so PostgreSQL planned the timeline's first page again on every request:
 * 0.13–0.33 ms of planning for 0.05 ms of execution (EXPLAIN ANALYZE, 1,000,000 entries). A
 * statement with nothing left to bind keeps one plan.
 */
export function inlineLimit(rows: number): number {
  if (!Number.isSafeInteger(rows) || rows < 0) throw new Error(`inlineLimit: ${rows} is not a row count`);
  // Drizzle's limit() is typed for numbers and placeholders; it writes any SQL object in as is.
  return sql.raw(String(rows)) as unknown as number;
}

/**
 * Query shapes kept built per database (or transaction). Client input picks the shape (which
 * filters are present, how many tags, the limit), so the copy is bounded; a shape that fell out is
 * built again on its next use, with the same statement name and text.
 */
export const MAX_KEPT_SHAPES = 256;

/**
 * Prepared statements built once per database (or transaction) and query shape: building SQL
 * with drizzle cost more CPU than PostgreSQL spent running it (docs/performance.md). The shape
 * key must cover everything that changes the SQL text, the limit included, so each statement
 * always runs with one limit; its plans were checked at full size after repeated executions.
 * `name` prefixes the statement names PostgreSQL sees; each connection keeps a bounded number of
 * them (statement-bounded-client.ts).
 */
export function preparedStatements<Statement>(name: string, maxShapes = MAX_KEPT_SHAPES) {
  const byDatabase = new WeakMap<Database, Map<string, Statement>>();
  return (db: Database, shape: string, prepare: (statementName: string) => Statement): Statement => {
    let byShape = byDatabase.get(db);
    if (!byShape) byDatabase.set(db, (byShape = new Map()));
    let statement = byShape.get(shape);
    if (statement) {
      // Most recently used last: a Map keeps insertion order, so the first key is the oldest.
      byShape.delete(shape);
    } else {
      statement = prepare(`${name}_${shape}`);
      if (byShape.size >= maxShapes) byShape.delete(byShape.keys().next().value as string);
    }
    byShape.set(shape, statement);
    return statement;
  };
}
