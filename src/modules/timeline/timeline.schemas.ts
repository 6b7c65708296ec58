import { z } from 'zod';
import { ArticleLabel } from '../articles/articles.schemas.js';
import { HttpUrl } from '../articles/blocks.js';
import { PageQuery, Slug, Timestamp, Uuid } from '../../http/common.schemas.js';
import { Locale, LocaleFilter } from '../../lib/locale.js';
import { isValidTimeZone } from '../../lib/time-zone.js';

export const TimelineEntry = z
  .object({
    id: Uuid,
    occurredAt: Timestamp,
    title: z.string().meta({ description: "The entry's own title, else its article's" }),
    label: ArticleLabel.nullable(),
    articleId: Uuid.nullable(),
    article: z
      .object({
        id: Uuid,
        slug: z.string(),
        title: z.string(),
        url: z.string().nullable().meta({ description: "The article's page on the news website; null while SITE_URL is unset" }),
      })
      .nullable(),
    url: z.string().nullable().meta({
      description: "Where the entry leads readers: the link set on it, else its article's page on the news website (null while SITE_URL is unset)",
    }),
    locale: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: z.number().int().min(1),
  })
  .meta({
    id: 'TimelineEntry',
    example: {
      id: '7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f',
      occurredAt: '2024-11-22T13:37:00.000Z',
      title: 'Game of chicken',
      label: 'opinion',
      articleId: null,
      article: null,
      url: null,
      locale: 'en',
      createdAt: '2024-11-22T13:37:00.000Z',
      updatedAt: '2024-11-22T13:37:00.000Z',
      version: 1,
    },
  });

export const TimelinePage = z
  .object({ data: z.array(TimelineEntry), nextCursor: z.string().nullable() })
  .meta({ id: 'TimelinePage' });

export const TimelineDays = z
  .object({
    days: z.array(z.object({ date: z.string().meta({ example: '2024-11-22' }), entries: z.array(TimelineEntry) })),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'TimelineDays', description: 'groupBy=day: entries by calendar day in the time zone; a day may continue on the next page' });

const TimeZone = z.string().max(64).refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Kyiv');

const repeatableSlug = z.preprocess(
  (value) => (value === undefined || Array.isArray(value) ? value : [value]),
  z.array(Slug).max(10).optional(),
);

/** A plain object: parameters it does not know (utm_*, cache busters) are dropped, not refused. */
export const TimelineQuery = z.object({
  locale: LocaleFilter,
  label: ArticleLabel.optional().meta({ description: 'Entries carrying this label only' }),
  tag: repeatableSlug.meta({ description: "Entries whose article has this tag; repeat for all of them" }),
  before: Timestamp.optional().meta({ description: 'Entries that occurred before this instant' }),
  after: Timestamp.optional().meta({ description: 'Entries that occurred after this instant' }),
  groupBy: z.enum(['day']).optional().meta({ description: '`day`: entries grouped by calendar day in `tz` (TimelineDays)' }),
  tz: TimeZone.optional().meta({ description: 'IANA time zone for groupBy=day; default the newsroom’s TIMEZONE' }),
  ...PageQuery,
});

const EntryTitle = z.string().trim().min(1).max(300);

export const TimelineEntryCreate = z
  .strictObject({
    title: EntryTitle.optional().meta({ description: "Required without articleId; else overrides the article's title" }),
    label: ArticleLabel.nullable().optional(),
    articleId: Uuid.optional(),
    url: HttpUrl.nullable().optional().meta({ description: "Where the entry leads readers; without one, to its article's page" }),
    occurredAt: Timestamp.optional().meta({ description: "Default: the article's publication time, or now" }),
    locale: Locale.optional(),
  })
  .refine((entry) => entry.articleId !== undefined || entry.title !== undefined, {
    message: 'A flash entry (without articleId) needs a title',
    path: ['title'],
  })
  .meta({ id: 'TimelineEntryCreate', example: { title: 'Czech Foreign Minister Lipavsky arrives in Kyiv', occurredAt: '2024-11-22T09:15:00.000Z' } });

export const TimelineEntryUpdate = z
  .strictObject({
    title: EntryTitle.nullable().optional().meta({ description: "null: follow the article's title again" }),
    label: ArticleLabel.nullable().optional(),
    url: HttpUrl.nullable().optional().meta({ description: "Where the entry leads readers; without one, to its article's page" }),
    occurredAt: Timestamp.optional(),
    locale: Locale.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one field to change')
  .meta({ id: 'TimelineEntryUpdate', example: { title: 'Czech Foreign Minister Lipavsky meets Zelensky in Kyiv', label: 'breaking' } });

export const TimelineEntryParams = z.strictObject({ id: Uuid.meta({ description: 'The timeline entry id' }) });

export type TimelineEntryWire = z.input<typeof TimelineEntry>;
export type TimelineQueryInput = z.output<typeof TimelineQuery>;
