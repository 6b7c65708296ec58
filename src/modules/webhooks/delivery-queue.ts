import { randomUUID } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { webhookAttempts, webhookDeliveries, webhooks } from '../../db/schema/webhooks.js';
import type { SendOutcome } from './send.js';

export interface ClaimedDelivery {
  id: string;
  webhookId: string;
  eventId: number;
  body: string;
  backoffMs: number | null;
  eventOccurredAt: Date;
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  claimToken: string;
}

const ms = (value: number) => sql`${Math.round(value)}::integer * interval '1 millisecond'`;

/**
 * Takes up to `limit` deliveries that are due, of enabled webhooks, and leases them to this sender
 * for `leaseMs`: FOR UPDATE SKIP LOCKED lets processes claim side by side without taking the same
 * row, and the lease (not a transaction held open across the HTTP call) keeps the others off it
 * while it is sent. A sender that dies mid-send leaves a lease that runs out: the delivery is
 * claimed again and sent again (at least once).
 */
export async function claimDue(db: Database, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  if (limit <= 0) return [];
  const token = randomUUID();
  const result = await db.execute(sql`
    update ${webhookDeliveries} d
    set claimed_until = now() + ${ms(leaseMs)}, claim_token = ${token}
    from (
      select due.id from ${webhookDeliveries} due
      join ${webhooks} w on w.id = due.webhook_id
      where due.status = 'pending' and due.next_attempt_at <= now() and w.enabled
        and (due.claimed_until is null or due.claimed_until < now())
      order by due.next_attempt_at
      limit ${limit}
      for update of due skip locked
    ) picked, ${webhooks} hook
    where d.id = picked.id and hook.id = d.webhook_id
    returning d.id, d.webhook_id, d.event_id, d.body, d.backoff_ms, d.event_occurred_at,
      hook.url, hook.secret, hook.previous_secret, hook.previous_secret_expires_at`);
  const rows = (result as unknown as { rows: Record<string, unknown>[] }).rows;
  return rows.map((row) => ({
    id: String(row.id),
    webhookId: String(row.webhook_id),
    eventId: Number(row.event_id),
    body: String(row.body),
    backoffMs: row.backoff_ms === null ? null : Number(row.backoff_ms),
    eventOccurredAt: new Date(row.event_occurred_at as string),
    url: String(row.url),
    secret: String(row.secret),
    previousSecret: row.previous_secret === null ? null : String(row.previous_secret),
    previousSecretExpiresAt: row.previous_secret_expires_at === null ? null : new Date(row.previous_secret_expires_at as string),
    claimToken: token,
  }));
}

export type AttemptResult = 'delivered' | 'retry_scheduled' | 'failed';

export interface RecordOptions {
  /** The wait before the next attempt, should this one have failed. */
  nextBackoffMs: number;
  /** A webhook whose every attempt has failed for this long is disabled. */
  disableAfterMs: number;
}

/**
 * Writes down one attempt and what follows from it, in one transaction: success ends the delivery
 * and the webhook's run of failures; a failure schedules the next attempt, or fails the delivery
 * once the next would fall past its retry deadline, and disables a webhook failing for too long.
 * The delivery is updated only while this sender's lease is its own.
 */
export async function recordAttempt(db: Database, claim: ClaimedDelivery, outcome: SendOutcome, options: RecordOptions): Promise<AttemptResult> {
  return db.transaction(async (tx) => {
    // The delivery may be gone (its webhook deleted meanwhile): then there is nothing to record.
    await tx.execute(sql`
      insert into ${webhookAttempts} (delivery_id, attempted_at, duration_ms, response_status, error, response_excerpt, response_truncated)
      select ${claim.id}, now() - ${ms(outcome.durationMs)}, ${outcome.durationMs}, ${outcome.status}, ${outcome.error},
        ${outcome.excerpt}, ${outcome.truncated}
      where exists (select 1 from ${webhookDeliveries} where id = ${claim.id})`);
    const mine = and(eq(webhookDeliveries.id, claim.id), eq(webhookDeliveries.claimToken, claim.claimToken));
    const released = { claimedUntil: null, claimToken: null, attempts: sql`${webhookDeliveries.attempts} + 1` };
    if (outcome.ok) {
      await tx.update(webhookDeliveries).set({ ...released, status: 'succeeded', finishedAt: sql`now()` }).where(mine);
      await tx.update(webhooks).set({ failingSince: null }).where(eq(webhooks.id, claim.webhookId));
      return 'delivered';
    }
    const next = sql`now() + ${ms(options.nextBackoffMs)}`;
    const [delivery] = await tx
      .update(webhookDeliveries)
      .set({
        ...released,
        status: sql`case when ${next} > ${webhookDeliveries.retryUntil} then 'failed' else 'pending' end`,
        finishedAt: sql`case when ${next} > ${webhookDeliveries.retryUntil} then now() end`,
        nextAttemptAt: sql`case when ${next} > ${webhookDeliveries.retryUntil} then ${webhookDeliveries.nextAttemptAt} else ${next} end`,
        backoffMs: options.nextBackoffMs,
      })
      .where(mine)
      .returning({ status: webhookDeliveries.status });
    await tx
      .update(webhooks)
      .set({ failingSince: sql`coalesce(${webhooks.failingSince}, now())` })
      .where(eq(webhooks.id, claim.webhookId));
    await tx
      .update(webhooks)
      .set({
        enabled: false,
        disabledReason: sql`'Every delivery attempt failed from ' || to_char(${webhooks.failingSince} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '; re-enable with PATCH {"enabled": true} once the receiver works.'`,
        updatedAt: sql`now()`,
      })
      .where(
        and(eq(webhooks.id, claim.webhookId), eq(webhooks.enabled, true), sql`${webhooks.failingSince} < now() - ${ms(options.disableAfterMs)}`),
      );
    return delivery?.status === 'failed' ? 'failed' : 'retry_scheduled';
  });
}

/** Gives a claimed delivery back unsent (shutdown): the next sender may take it at once. */
export async function releaseClaim(db: Database, claim: ClaimedDelivery): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({ claimedUntil: null, claimToken: null })
    .where(and(eq(webhookDeliveries.id, claim.id), eq(webhookDeliveries.claimToken, claim.claimToken)));
}

/** Deliveries waiting to be sent, for the queue-depth gauge (those of disabled webhooks wait too). */
export async function pendingCount(db: Database): Promise<number> {
  const [row] = await db
    .select({ count: sql<number>`count(*)::integer` })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.status, 'pending'), isNull(webhookDeliveries.finishedAt)));
  return Number(row?.count ?? 0);
}
