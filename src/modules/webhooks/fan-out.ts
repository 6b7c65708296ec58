import { asc, eq, gt, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { events } from '../../db/schema/events.js';
import { webhookDeliveries, webhooks } from '../../db/schema/webhooks.js';
import { isoTime } from '../../http/common.schemas.js';
import { typesMatching } from '../../events/event-types.js';

/** Events read per pass; a webhook far behind catches up over several passes. */
const FAN_OUT_BATCH = 500;

export interface FanOutResult {
  /** Enabled webhooks this pass looked at (zero: nothing to follow, the worker may idle). */
  webhooks: number;
  deliveries: number;
}

/** The body a receiver gets (Standard Webhooks: type, timestamp, data), fixed once for every retry. */
export function deliveryBody(event: { type: string; occurredAt: Date; data: unknown }): string {
  return JSON.stringify({ type: event.type, timestamp: isoTime(event.occurredAt), data: event.data });
}

/** The log's newest id: where a new (or re-enabled) webhook starts following. */
export const logHead = sql<number>`(select coalesce(max(${events.id}), 0) from ${events})`;

/**
 * Turns new events into deliveries for every enabled webhook whose patterns match them, and moves
 * each webhook's cursor past what it read, in one transaction: an event becomes a delivery once,
 * whichever process gets there. Webhooks are locked with SKIP LOCKED, so processes passing at the
 * same time share the work instead of waiting. Event ids grow in commit order (docs/adr/0012):
 * reading "id > cursor" never skips an event that commits later.
 */
export async function fanOut(db: Database, retryWindowMs: number): Promise<FanOutResult> {
  return db.transaction(async (tx) => {
    const followers = await tx
      .select({ id: webhooks.id, patterns: webhooks.events, lastEventId: webhooks.lastEventId })
      .from(webhooks)
      .where(eq(webhooks.enabled, true))
      .for('update', { skipLocked: true });
    if (followers.length === 0) return { webhooks: 0, deliveries: 0 };
    const from = Math.min(...followers.map((hook) => Number(hook.lastEventId)));
    const batch = await tx
      .select({ id: events.id, type: events.type, occurredAt: events.occurredAt, data: events.data })
      .from(events)
      .where(gt(events.id, from))
      .orderBy(asc(events.id))
      .limit(FAN_OUT_BATCH);
    const head = batch.at(-1)?.id;
    if (head === undefined) return { webhooks: followers.length, deliveries: 0 };

    let deliveries = 0;
    const retryUntil = sql`now() + ${retryWindowMs}::integer * interval '1 millisecond'`;
    for (const hook of followers) {
      const cursor = Number(hook.lastEventId);
      if (cursor >= Number(head)) continue;
      const types = new Set<string>(typesMatching(hook.patterns));
      const rows = batch
        .filter((event) => Number(event.id) > cursor && types.has(event.type))
        .map((event) => ({
          webhookId: hook.id,
          eventId: Number(event.id),
          eventType: event.type,
          eventOccurredAt: event.occurredAt,
          body: deliveryBody(event),
          retryUntil,
        }));
      if (rows.length > 0) {
        // A repeat of the same event for the same webhook is impossible by the cursor; the
        // constraint is a second guard, so it is skipped rather than failing the pass.
        await tx.insert(webhookDeliveries).values(rows).onConflictDoNothing();
        deliveries += rows.length;
      }
      await tx.update(webhooks).set({ lastEventId: Number(head) }).where(eq(webhooks.id, hook.id));
    }
    return { webhooks: followers.length, deliveries };
  });
}
