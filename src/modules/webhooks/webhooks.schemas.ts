import { z } from 'zod';
import { WEBHOOK_DELIVERY_STATUSES } from '../../db/schema/webhooks.js';
import { EVENT_TYPES, typesMatching } from '../../events/event-types.js';
import { PageQuery, page, Timestamp, Uuid } from '../../http/common.schemas.js';

const MAX_URL_LENGTH = 2_000;
const MAX_PATTERNS = 20;

const TargetUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(MAX_URL_LENGTH)
  .refine((value) => {
    // Runs even when the URL check failed (zod reports every problem): only judge what parses.
    const url = URL.canParse(value) ? new URL(value) : null;
    return url === null || (url.username === '' && url.password === '');
  }, 'must not carry a user name or password (the webhook is listed to every admin)')
  .meta({ example: 'https://hooks.example/lede' });

const EventPattern = z
  .string()
  .max(64)
  .regex(/^[a-z*]+(\.[a-z*]+)*$/, 'must be an event type or a pattern with *, such as article.* or *.deleted')
  .refine((pattern) => typesMatching([pattern]).length > 0, `matches no event type; the types are ${EVENT_TYPES.join(', ')}`);

const EventPatterns = z
  .array(EventPattern)
  .min(1)
  .max(MAX_PATTERNS)
  .meta({ description: 'Event types to receive; `*` stands for any part (`article.*`, `*.deleted`, `*`)', example: ['article.*', 'timeline.entry.created'] });

const Description = z.string().trim().max(500).meta({ example: 'Purges the CDN' });

export const Webhook = z
  .object({
    id: Uuid,
    url: z.string().meta({ example: 'https://hooks.example/lede' }),
    description: z.string().nullable(),
    events: z.array(z.string()).meta({ example: ['article.*'] }),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().meta({ description: 'Why the webhook turned itself off (it failed for days); null otherwise' }),
    previousSecretExpiresAt: Timestamp.nullable().meta({ description: 'After a rotation: until when the previous secret also signs deliveries' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Webhook' });

const Secret = z.string().meta({
  description: 'The signing secret (Standard Webhooks). Shown only in this response: store it now.',
  example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw4kT5pZK3Ecc=',
});

export const WebhookCreated = Webhook.extend({ secret: Secret }).meta({ id: 'WebhookCreated' });

export const WebhookUpdated = Webhook.extend({ secret: Secret.optional() }).meta({
  id: 'WebhookUpdated',
  description: 'The webhook; with `secret` when the request rotated it',
});

export const WebhookCreate = z
  .strictObject({
    url: TargetUrl,
    events: EventPatterns,
    description: Description.optional(),
    enabled: z.boolean().default(true),
  })
  .meta({ id: 'WebhookCreate', example: { url: 'https://hooks.example/lede', events: ['article.*'], description: 'Purges the CDN' } });

export const WebhookUpdate = z
  .strictObject({
    url: TargetUrl.optional(),
    events: EventPatterns.optional(),
    description: Description.nullable().optional(),
    enabled: z.boolean().optional().meta({ description: 'Turning a webhook on again: it receives events from now on, not those it missed' }),
    rotateSecret: z
      .literal(true)
      .optional()
      .meta({ description: 'Issue a new secret (answered once); the old one also signs deliveries for 24 hours' }),
  })
  .meta({ id: 'WebhookUpdate', example: { enabled: true } });

export const WebhookAttempt = z
  .object({
    attemptedAt: Timestamp,
    durationMs: z.number().int(),
    responseStatus: z.number().int().nullable().meta({ description: "The receiver's HTTP status; null when none came" }),
    error: z.string().nullable().meta({ example: 'The receiver answered 500' }),
    responseExcerpt: z.string().nullable().meta({ description: 'The start of the answer' }),
    responseTruncated: z.boolean().meta({ description: 'The answer was longer than the 64 KB read of it' }),
  })
  .meta({ id: 'WebhookAttempt' });

export const WebhookDelivery = z
  .object({
    id: Uuid,
    eventId: z.string().meta({ description: 'Also the webhook-id header of every attempt', example: '4128' }),
    eventType: z.string().meta({ example: 'article.published' }),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES).meta({ description: 'pending: will be (re)tried; succeeded; failed: retries used up' }),
    nextAttemptAt: Timestamp.nullable().meta({ description: 'When a pending delivery is tried next; null otherwise' }),
    attempts: z.array(WebhookAttempt).meta({ description: 'Every attempt, oldest first' }),
    createdAt: Timestamp,
    finishedAt: Timestamp.nullable(),
  })
  .meta({ id: 'WebhookDelivery' });

export const WebhookPage = page(Webhook, 'WebhookPage');
export const WebhookDeliveryPage = page(WebhookDelivery, 'WebhookDeliveryPage');

/** Plain objects: parameters they do not know (cache busters) are dropped, not refused. */
export const WebhookListQuery = z.object({ ...PageQuery });
export const WebhookDeliveryListQuery = z.object({
  ...PageQuery,
  status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional().meta({ description: 'Only deliveries in this state' }),
});

export const WebhookParams = z.strictObject({ id: Uuid.meta({ description: 'The webhook id' }) });
export const WebhookDeliveryParams = z.strictObject({
  id: Uuid.meta({ description: 'The webhook id' }),
  deliveryId: Uuid.meta({ description: 'The delivery id' }),
});
