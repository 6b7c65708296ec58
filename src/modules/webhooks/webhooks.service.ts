import { z } from 'zod';
import type { ContentChanges } from '../../cache/content-changes.js';
import type { Database } from '../../db/database.js';
import type { WebhookDeliveryStatus } from '../../db/schema/webhooks.js';
import { AppError } from '../../http/app-error.js';
import { Timestamp } from '../../http/common.schemas.js';
import { decodeCursor, paginate } from '../../http/cursor.js';
import * as repo from './webhooks.repository.js';
import { generateWebhookSecret } from './webhook-secret.js';
import { forbiddenLiteralTarget } from './webhook-target.js';
import { WEBHOOKS_CHANGED } from './worker.plugin.js';

/** After a rotation the previous secret signs too, for this long: receivers switch without a gap. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 3_600_000;

const KeysetValues = z.tuple([Timestamp, z.uuid()]);
const WEBHOOKS_CURSOR = 'webhooks';
const deliveriesCursor = (webhookId: string, status: string | undefined) => `webhook-deliveries:${webhookId}:${status ?? ''}`;

/** A delivery with its attempts listed (its row counts them). */
export type DeliveryWithAttempts = Omit<repo.DeliveryRow, 'attempts'> & { attempts: repo.AttemptRow[] };

function webhookNotFound(id: string): AppError {
  return new AppError('WEBHOOK_NOT_FOUND', `No webhook has the id ${id}.`);
}

/** Refuses a target whose address is written out and is not public (the host names are checked when sending). */
function checkTarget(url: string | undefined, allowPrivateTargets: boolean): void {
  if (url === undefined || !forbiddenLiteralTarget(new URL(url), allowPrivateTargets)) return;
  throw new AppError('WEBHOOK_TARGET_FORBIDDEN', `${url} is not a public address; webhooks must reach a public address.`, [
    { path: 'body.url', message: 'not a public address' },
  ]);
}

const keyset = (cursor: string | undefined, kind: string) => {
  const values = cursor ? decodeCursor(kind, cursor, KeysetValues) : undefined;
  return values ? { createdAt: new Date(values[0]), id: values[1] } : undefined;
};

/** Webhook administration. Every change is announced, so each process's worker sees it at once. */
export function webhooksService(db: Database, changes: ContentChanges, options: { allowPrivateTargets: boolean }) {
  const announced = <T>(work: (tx: Database) => Promise<T>) =>
    changes.write(async (tx, changed) => {
      changed(WEBHOOKS_CHANGED);
      return work(tx);
    });

  return {
    async create(input: { url: string; events: string[]; description?: string; enabled: boolean }) {
      checkTarget(input.url, options.allowPrivateTargets);
      const secret = generateWebhookSecret();
      const record = await announced((tx) =>
        repo.insertWebhook(tx, { url: input.url, events: input.events, description: input.description ?? null, enabled: input.enabled, secret }),
      );
      return { record, secret };
    },

    async list(query: { limit: number; cursor?: string }) {
      const rows = await repo.listWebhooks(db, { limit: query.limit + 1, after: keyset(query.cursor, WEBHOOKS_CURSOR) });
      return paginate(rows, query.limit, WEBHOOKS_CURSOR, (last) => [last.createdAt.toISOString(), last.id]);
    },

    async get(id: string): Promise<repo.WebhookRow> {
      const row = await repo.findWebhook(db, id);
      if (!row) throw webhookNotFound(id);
      return row;
    },

    /** Answers the new secret when the update rotated it. */
    async update(id: string, input: Omit<repo.WebhookChanges, 'rotation'> & { rotateSecret?: true }) {
      checkTarget(input.url, options.allowPrivateTargets);
      const { rotateSecret, ...changesToApply } = input;
      const secret = rotateSecret ? generateWebhookSecret() : undefined;
      const rotation = secret ? { secret, previousSecretGraceMs: PREVIOUS_SECRET_GRACE_MS } : undefined;
      const record = await announced((tx) => repo.updateWebhook(tx, id, { ...changesToApply, rotation }));
      if (!record) throw webhookNotFound(id);
      return { record, secret };
    },

    async remove(id: string): Promise<void> {
      if (!(await announced((tx) => repo.deleteWebhook(tx, id)))) throw webhookNotFound(id);
    },

    async deliveries(id: string, query: { limit: number; cursor?: string; status?: WebhookDeliveryStatus }) {
      await this.get(id);
      const kind = deliveriesCursor(id, query.status);
      const rows = await repo.listDeliveries(db, id, { limit: query.limit + 1, status: query.status, after: keyset(query.cursor, kind) });
      const pageOf = paginate(rows, query.limit, kind, (last) => [last.createdAt.toISOString(), last.id]);
      const attempts = await repo.attemptsOf(db, pageOf.data.map((row) => row.id));
      const data: DeliveryWithAttempts[] = pageOf.data.map((row) => ({ ...row, attempts: attempts.filter((attempt) => attempt.deliveryId === row.id) }));
      return { data, nextCursor: pageOf.nextCursor };
    },

    async retry(id: string, deliveryId: string): Promise<DeliveryWithAttempts> {
      await this.get(id);
      const row = await announced((tx) => repo.retryDelivery(tx, id, deliveryId));
      if (!row) throw new AppError('WEBHOOK_DELIVERY_NOT_FOUND', `Webhook ${id} has no delivery ${deliveryId}.`);
      return { ...row, attempts: await repo.attemptsOf(db, [row.id]) };
    },
  };
}
export type WebhooksService = ReturnType<typeof webhooksService>;
