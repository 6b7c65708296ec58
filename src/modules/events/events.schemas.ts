import { z } from 'zod';
import { Timestamp } from '../../http/common.schemas.js';
import { Article } from '../articles/articles.schemas.js';
import { Tag } from '../tags/tags.schemas.js';
import { TimelineEntry } from '../timeline/timeline.schemas.js';

/** Event ids are decimal digits, opaque to clients: compare them only by what the log returns. */
export const EventId = z.string().max(18).regex(/^\d{1,18}$/, 'must be an event id').meta({ example: '4128' });

const SurrogateKeys = z.array(z.string()).meta({ description: 'What a CDN should purge for this change' });
const keyed = <T extends z.ZodObject>(resource: T) => resource.extend({ surrogateKeys: SurrogateKeys });
/** What is left of a resource readers no longer see. */
const Removal = z.object({ id: z.string(), surrogateKeys: SurrogateKeys }).meta({ id: 'EventRemoval' });

const common = { id: EventId, occurredAt: Timestamp };

/**
 * One event; `type` says what `data` is: the resource as the public now sees it (key-only types:
 * as editors see it), or `{id, surrogateKeys}` when it is gone from readers' view.
 */
export const Event = z
  .union([
    z.object({ ...common, type: z.enum(['article.published', 'article.updated', 'article.created', 'article.scheduled']), data: keyed(Article) }),
    z.object({ ...common, type: z.literal('article.changed'), data: z.union([keyed(Article), Removal]).meta({ description: 'The article as editors see it; `{id, surrogateKeys}` when it was deleted' }) }),
    z.object({ ...common, type: z.enum(['timeline.entry.created', 'timeline.entry.updated']), data: keyed(TimelineEntry) }),
    z.object({ ...common, type: z.enum(['tag.created', 'tag.updated']), data: keyed(Tag) }),
    z.object({ ...common, type: z.enum(['article.unpublished', 'timeline.entry.deleted', 'tag.deleted']), data: Removal }),
  ])
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
  after: EventId.optional().meta({ description: 'The last event id you have: the page starts after it. Without it (or 0), from the oldest kept' }),
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
