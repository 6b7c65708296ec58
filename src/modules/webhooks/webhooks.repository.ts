import { and, asc, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { type WebhookDeliveryStatus, webhookAttempts, webhookDeliveries, webhooks } from '../../db/schema/webhooks.js';
import { logHead } from './fan-out.js';

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type AttemptRow = typeof webhookAttempts.$inferSelect;

interface Keyset {
  createdAt: Date;
  id: string;
}

export async function insertWebhook(
  db: Database,
  values: { url: string; events: string[]; description: string | null; enabled: boolean; secret: string },
): Promise<WebhookRow> {
  // Starts at the log's head: events from before the webhook existed are not sent to it.
  const [row] = await db.insert(webhooks).values({ ...values, lastEventId: logHead }).returning();
  if (!row) throw new Error('insert into webhooks returned no row');
  return row;
}

export async function findWebhook(db: Database, id: string): Promise<WebhookRow | undefined> {
  const [row] = await db.select().from(webhooks).where(eq(webhooks.id, id)).limit(1);
  return row;
}

/** Newest first, keyset on (createdAt, id). */
export async function listWebhooks(db: Database, options: { limit: number; after?: Keyset }): Promise<WebhookRow[]> {
  const after = options.after;
  return db
    .select()
    .from(webhooks)
    .where(after ? or(lt(webhooks.createdAt, after.createdAt), and(eq(webhooks.createdAt, after.createdAt), lt(webhooks.id, after.id))) : undefined)
    .orderBy(desc(webhooks.createdAt), desc(webhooks.id))
    .limit(options.limit);
}

export interface WebhookChanges {
  url?: string;
  events?: string[];
  description?: string | null;
  enabled?: boolean;
  rotation?: { secret: string; previousSecretGraceMs: number };
}

export async function updateWebhook(db: Database, id: string, changes: WebhookChanges): Promise<WebhookRow | undefined> {
  const { rotation, enabled, ...plain } = changes;
  const [row] = await db
    .update(webhooks)
    .set({
      ...plain,
      updatedAt: sql`now()`,
      ...(enabled === undefined
        ? {}
        : enabled
          ? // Turned on again (by hand or after it disabled itself): it follows the log from now on,
            // with a clean record, rather than replaying what happened while it was off.
            {
              enabled: true,
              disabledReason: null,
              failingSince: null,
              lastEventId: sql`case when ${webhooks.enabled} then ${webhooks.lastEventId} else ${logHead} end`,
            }
          : { enabled: false, disabledReason: null }),
      ...(rotation
        ? {
            previousSecret: webhooks.secret,
            previousSecretExpiresAt: sql`now() + ${rotation.previousSecretGraceMs}::integer * interval '1 millisecond'`,
            secret: rotation.secret,
          }
        : {}),
    })
    .where(eq(webhooks.id, id))
    .returning();
  return row;
}

export async function deleteWebhook(db: Database, id: string): Promise<boolean> {
  const deleted = await db.delete(webhooks).where(eq(webhooks.id, id)).returning({ id: webhooks.id });
  return deleted.length > 0;
}

/** A webhook's deliveries, newest first, keyset on (createdAt, id). */
export async function listDeliveries(
  db: Database,
  webhookId: string,
  options: { limit: number; status?: WebhookDeliveryStatus; after?: Keyset },
): Promise<DeliveryRow[]> {
  const after = options.after;
  return db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.webhookId, webhookId),
        options.status ? eq(webhookDeliveries.status, options.status) : undefined,
        after
          ? or(
              lt(webhookDeliveries.createdAt, after.createdAt),
              and(eq(webhookDeliveries.createdAt, after.createdAt), lt(webhookDeliveries.id, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(options.limit);
}

/** The attempts of these deliveries, oldest first. */
export async function attemptsOf(db: Database, deliveryIds: string[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return [];
  return db.select().from(webhookAttempts).where(inArray(webhookAttempts.deliveryId, deliveryIds)).orderBy(asc(webhookAttempts.id));
}

/**
 * Sends a delivery again now, by hand. A failed or succeeded one gets one more attempt (its
 * automatic retries are over: a failure fails it again); a pending one is simply brought forward.
 */
export async function retryDelivery(db: Database, webhookId: string, deliveryId: string): Promise<DeliveryRow | undefined> {
  const [row] = await db
    .update(webhookDeliveries)
    .set({
      retryUntil: sql`case when ${webhookDeliveries.status} = 'pending' then ${webhookDeliveries.retryUntil} else now() end`,
      status: 'pending',
      nextAttemptAt: sql`now()`,
      finishedAt: null,
    })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.webhookId, webhookId)))
    .returning();
  return row;
}
