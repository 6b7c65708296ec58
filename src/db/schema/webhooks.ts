import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, index, integer, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';

const time = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/**
 * Endpoints that receive events (docs/webhooks.md). The secret signs every delivery, so it is kept
 * as it is (a hash could not sign); it is shown once and never listed.
 */
export const webhooks = pgTable(
  'webhooks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    url: text('url').notNull(),
    description: text('description'),
    /** Event type patterns as the admin wrote them (`article.*`). */
    events: text('events').array().notNull(),
    enabled: boolean('enabled').notNull().default(true),
    /** Why the webhook stopped by itself (failing for days); null when an admin disabled it or it is on. */
    disabledReason: text('disabled_reason'),
    secret: text('secret').notNull(),
    /** The secret before the last rotation: deliveries carry its signature too until it expires. */
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: time('previous_secret_expires_at'),
    /**
     * The newest event id already turned into deliveries. Event ids grow in commit order
     * (docs/adr/0012), so "id > this" misses nothing; a new webhook starts at the log's head.
     */
    lastEventId: bigint('last_event_id', { mode: 'number' }).notNull().default(0),
    /** When the current run of failed attempts began; null after a success. */
    failingSince: time('failing_since'),
    createdAt: time('created_at').notNull().defaultNow(),
    updatedAt: time('updated_at').notNull().defaultNow(),
  },
  (table) => [index('webhooks_created_idx').on(table.createdAt, table.id)],
);

/** One event for one webhook: sent until it succeeds or its retries run out. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    eventType: text('event_type').notNull(),
    eventOccurredAt: time('event_occurred_at').notNull(),
    /** The exact bytes sent and signed, so every retry repeats them (the event may be swept meanwhile). */
    body: text('body').notNull(),
    status: text('status', { enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: time('next_attempt_at').notNull().defaultNow(),
    /** Past this, a failed attempt fails the delivery instead of scheduling another. */
    retryUntil: time('retry_until').notNull(),
    /** The last wait between attempts; the next one is at least twice as long. */
    backoffMs: integer('backoff_ms'),
    /** A sender's lease: nobody else claims the delivery before it ends. */
    claimedUntil: time('claimed_until'),
    claimToken: uuid('claim_token'),
    createdAt: time('created_at').notNull().defaultNow(),
    finishedAt: time('finished_at'),
  },
  (table) => [
    check('webhook_deliveries_status_check', sql`${table.status} in ('pending', 'succeeded', 'failed')`),
    unique('webhook_deliveries_event_unique').on(table.webhookId, table.eventId),
    index('webhook_deliveries_due_idx').on(table.nextAttemptAt).where(sql`${table.status} = 'pending'`),
    index('webhook_deliveries_webhook_idx').on(table.webhookId, table.createdAt, table.id),
    // Finished deliveries are removed after EVENTS_RETENTION_DAYS, oldest first.
    index('webhook_deliveries_finished_idx').on(table.finishedAt).where(sql`${table.status} <> 'pending'`),
  ],
);

/** Every attempt at a delivery, as the deliveries endpoint lists it. */
export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attemptedAt: time('attempted_at').notNull().defaultNow(),
    durationMs: integer('duration_ms').notNull(),
    /** The receiver's HTTP status; null when no answer came (refused target, timeout, network). */
    responseStatus: integer('response_status'),
    error: text('error'),
    /** The start of the answer, for whoever debugs the receiver. */
    responseExcerpt: text('response_excerpt'),
    /** The answer was longer than what is read of it, and was cut. */
    responseTruncated: boolean('response_truncated').notNull().default(false),
  },
  (table) => [index('webhook_attempts_delivery_idx').on(table.deliveryId, table.id)],
);
