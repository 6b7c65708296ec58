import { z } from 'zod';
import { PageQuery, page, SearchText, Slug, Timestamp, Uuid } from '../../http/common.schemas.js';
import { Locale, LocaleFilter, SlugLocale } from '../../lib/locale.js';

const TagName = z.string().trim().min(1).max(100).meta({ example: 'Russia' });
const TagDescription = z.string().trim().max(1000).nullable().meta({ example: 'Coverage of Russia and its war against Ukraine' });

export const Tag = z
  .object({
    id: Uuid,
    slug: Slug.meta({ example: 'russia' }),
    name: TagName,
    description: z.string().nullable(),
    locale: z.string().meta({ example: 'en' }),
    articleCount: z.number().int().min(0).meta({ description: 'Articles carrying this tag that the caller may see' }),
    url: z.string().nullable().meta({ description: "The tag's page on the news website (SITE_URL + SITE_TAG_PATH); null while SITE_URL is unset", example: 'https://news.example/tags/russia' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: z.number().int().min(1).meta({ description: 'Grows by one on every change; the ETag is derived from it' }),
  })
  .meta({
    id: 'Tag',
    example: {
      id: '5d0c1c1e-6f2a-4c59-9a57-3b7e2f0a8d11',
      slug: 'russia',
      name: 'Russia',
      description: null,
      locale: 'en',
      articleCount: 1,
      url: 'https://news.example/tags/russia',
      createdAt: '2023-03-02T17:59:00.000Z',
      updatedAt: '2023-03-02T17:59:00.000Z',
      version: 1,
    },
  });

export const TagCreate = z
  .strictObject({
    name: TagName,
    slug: Slug.optional().meta({ description: 'Made from the name when absent (Cyrillic is transliterated)' }),
    description: TagDescription.optional(),
    locale: Locale.optional().meta({ description: 'Defaults to the configured DEFAULT_LOCALE' }),
  })
  .meta({ id: 'TagCreate', example: { name: 'Росія', locale: 'uk' } });

export const TagUpdate = z
  .strictObject({
    name: TagName.optional(),
    slug: Slug.optional(),
    description: TagDescription.optional(),
    locale: Locale.optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one field to change')
  .meta({ id: 'TagUpdate', example: { description: 'Coverage of Russia' } });

export const TagPage = page(Tag, 'TagPage');

/** GET queries are plain objects: parameters they do not know (utm_*, cache busters) are dropped, not refused. */
export const TagListQuery = z.object({
  q: SearchText(100).meta({ description: 'Prefix of the name or slug, case-insensitive. Empty: no filter' }),
  locale: LocaleFilter,
  ...PageQuery,
});

export const TagLookupQuery = z.object({
  locale: SlugLocale,
});

/** Where PATCH looks a slug up: as GET does. */
export const TagWriteQuery = z.strictObject({ locale: SlugLocale });

export const TagDeleteQuery = z.strictObject({
  locale: SlugLocale,
  force: z
    .enum(['true', 'false'])
    .optional()
    .transform((value) => value === 'true')
    .meta({ description: '`true`: delete a tag that articles carry, detaching it from them. Without it such a tag is 409 TAG_IN_USE' }),
});

export const TagIdOrSlugParams = z.strictObject({
  idOrSlug: z.union([Uuid, Slug]).meta({ description: 'The tag id, or its slug (looked up as `locale` says)' }),
});

export type TagCreateInput = z.output<typeof TagCreate>;
export type TagUpdateInput = z.output<typeof TagUpdate>;
export type TagWire = z.input<typeof Tag>;
