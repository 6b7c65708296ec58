import { z } from 'zod';
import { Timestamp } from '../../http/common.schemas.js';
import { EVENT_TYPES } from '../../events/event-types.js';

/** Event ids are decimal digits, opaque to clients: compare them only by what the log returns. */
export const EventId = z.string().regex(/^\d{1,18}$/, 'must be an event id').meta({ example: '4128' });

export const Event = z
  .object({
    id: EventId,
    type: z.enum(EVENT_TYPES),
    occurredAt: Timestamp,
    data: z
      .looseObject({
        id: z.string(),
        surrogateKeys: z.array(z.string()).meta({ description: 'What a CDN should purge for this change' }),
      })
      .meta({ description: 'The resource as the public now sees it (key-only types: as editors see it); `{id, surrogateKeys}` for removals' }),
  })
  .meta({
    id: 'Event',
    example: {
      id: '4128',
      type: 'article.unpublished',
      occurredAt: '2024-11-22T18:00:00.000Z',
      data: { id: '3f2a9c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f', surrogateKeys: ['article:3f2a9c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f', 'articles', 'feeds'] },
    },
  });

export const EventPage = z
  .object({
    data: z.array(Event),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null when you have caught up (keep the last id)' }),
  })
  .meta({ id: 'EventPage' });

const TypePattern = z
  .string()
  .max(64)
  .regex(/^[a-z*]+(\.[a-z*]+)*$/, 'must be an event type or a pattern with *, such as article.* or *.deleted');

export const MAX_EVENT_PAGE = 500;

/** A plain object: parameters it does not know (utm_*, cache busters) are dropped, not refused. */
export const EventQuery = z.object({
  after: EventId.optional().meta({ description: 'The last event id you have: the page starts after it. Without it, from the oldest kept' }),
  types: z
    .preprocess(
      (value) => (value === undefined ? undefined : [value].flat().flatMap((item) => String(item).split(',')).map((item) => item.trim()).filter(Boolean)),
      z.array(TypePattern).max(20).optional(),
    )
    .meta({ description: 'Comma-separated types or patterns (`article.*`, `timeline.*`, `*.deleted`); default all you may see' }),
  limit: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_EVENT_PAGE, `must be at most ${MAX_EVENT_PAGE}`)
    .default(100)
    .meta({ description: `Events per page, 1–${MAX_EVENT_PAGE}` }),
  cursor: z.string().max(1024).optional().meta({ description: 'Opaque cursor from a previous page’s nextCursor (instead of after)' }),
});
