import { randomUUID } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/database.js';
import { type EventDraft, isPublicEvent } from '../events/event-types.js';

/** The NOTIFY channel on which every process announces what its writes changed. */
export const CONTENT_CHANNEL = 'lede_content_changed';

/** Announced by every write that appended events, so followers of the log (live streams) read it. */
export const EVENTS_APPENDED = 'events';
/** Stands for every key: announced when the list would not fit in a notification. */
export const EVERYTHING = '*';
/** NOTIFY payloads must stay under 8,000 bytes. */
const MAX_ANNOUNCEMENT_BYTES = 7_000;

/** Names content a write changed, by the same keys responses carry in Surrogate-Key. */
export type MarkChanged = (...keys: string[]) => void;
/** Adds events to the change log, written as the write's transaction commits (docs/adr/0017-events-written-at-commit.md). */
export type Emit = (...events: EventDraft[]) => void;
/**
 * Adds a data-modifying statement whose result the write does not need (a revision, a cleanup) to
 * the statement that closes the write: one round trip fewer. An error it raises surfaces there, so
 * `translate` may turn it into the answer the caller would have given (it throws, or returns to
 * let the error through).
 */
export type Alongside = (statement: SQL, translate?: (error: unknown) => void) => void;

export interface ContentChanges {
  /**
   * Runs `work` in one transaction. The keys it marks are announced to every process with
   * pg_notify inside that transaction, so the announcement is delivered exactly when the change
   * commits (never for a rolled-back write), and are invalidated in this process before `write`
   * resolves, so the writer's own next read never sees the old version. The events it emits are
   * handed to the transaction in the statement that announces (which writes them, numbered, as it
   * commits), and the statements passed to `alongside` ride in that statement too.
   */
  write<T>(work: (tx: Database, changed: MarkChanged, emit: Emit, alongside: Alongside) => Promise<T>): Promise<T>;
}

export interface ChangeAnnouncement {
  /** The announcing process, which has already applied its own announcement. */
  from: string;
  keys: string[];
}

export function parseAnnouncement(payload: string): ChangeAnnouncement | null {
  try {
    const value = JSON.parse(payload) as Partial<ChangeAnnouncement>;
    if (typeof value.from !== 'string' || !Array.isArray(value.keys)) return null;
    return { from: value.from, keys: value.keys.filter((key): key is string => typeof key === 'string') };
  } catch {
    return null;
  }
}

/** Identifies this process's announcements (a process may hold several apps: tests do). */
export function newInstanceId(): string {
  return randomUUID();
}

export function contentChanges(db: Database, instanceId: string, committed: (keys: string[]) => void): ContentChanges {
  return {
    async write(work) {
      const keys = new Set<string>();
      const emitted: EventDraft[] = [];
      const riders: { statement: SQL; translate?: (error: unknown) => void }[] = [];
      const result = await db.transaction(async (tx) => {
        const value = await work(
          tx,
          (...changed) => changed.forEach((key) => keys.add(key)),
          (...drafts) => emitted.push(...drafts),
          (statement, translate) => riders.push({ statement, translate }),
        );
        if (emitted.length > 0) keys.add(EVENTS_APPENDED);
        if (keys.size === 0 && riders.length === 0) return value;
        try {
          await tx.execute(closingStatement(instanceId, keys, emitted, riders.map((rider) => rider.statement)));
        } catch (error) {
          riders.forEach((rider) => rider.translate?.(error));
          throw error;
        }
        return value;
      });
      if (keys.size > 0) committed([...keys]);
      return result;
    },
  };
}

/**
 * One statement at the end of a write: the statements riding along, the events, and the
 * announcement. The events are written, with their ids, while the transaction commits
 * (docs/adr/0017-events-written-at-commit.md).
 */
function closingStatement(instanceId: string, keys: Set<string>, emitted: EventDraft[], riders: SQL[]) {
  let payload = JSON.stringify({ from: instanceId, keys: [...keys] } satisfies ChangeAnnouncement);
  if (Buffer.byteLength(payload) > MAX_ANNOUNCEMENT_BYTES) {
    payload = JSON.stringify({ from: instanceId, keys: [EVERYTHING] } satisfies ChangeAnnouncement);
  }
  const announce = keys.size > 0 ? sql`pg_notify(${CONTENT_CHANNEL}, ${payload})` : sql`null`;
  // The events are handed to the transaction, which writes them, numbered, as it commits.
  const drafts = emitted.map((event) => ({ type: event.type, public: isPublicEvent(event), data: event.data }));
  const append = emitted.length > 0 ? sql`, events_append(${JSON.stringify(drafts)}::jsonb)` : sql``;
  if (riders.length === 0) return sql`select ${announce}${append}`;
  // A data-modifying WITH runs once whether or not the outer query reads it.
  const parts = riders.map((statement, index) => sql`${sql.raw(`rider_${index}`)} as (${statement})`);
  return sql`with ${sql.join(parts, sql`, `)} select ${announce}${append}`;
}
