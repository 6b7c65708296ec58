import { z } from 'zod';
import { ARTICLE_LABELS, ARTICLE_STATUSES } from '../../db/schema/articles.js';
import { PageQuery, page, SearchText, Slug, Timestamp, Uuid } from '../../http/common.schemas.js';
import { Locale, LocaleFilter, SlugLocale } from '../../lib/locale.js';
import { ARTICLE_TITLE_MAX_LENGTH, BlockOutput, BodyInput, HttpUrl } from './blocks.js';
import { SEED_ARTICLE_EXAMPLE } from './articles.examples.js';

export const ArticleStatus = z.enum(ARTICLE_STATUSES);
export const ArticleLabel = z.enum(ARTICLE_LABELS);

const Title = z.string().trim().min(1).max(ARTICLE_TITLE_MAX_LENGTH);
const Lead = z.string().trim().max(1000);
const SectionSlug = Slug.max(100).meta({ example: 'news' });

export const Source = z.strictObject({ name: z.string().trim().min(1).max(200), url: HttpUrl.optional() }).meta({ id: 'Source' });

export const CoverImage = z
  .strictObject({
    url: HttpUrl,
    alt: z.string().trim().max(500),
    caption: z.string().trim().max(1000).optional(),
    credit: z.string().trim().max(300).optional(),
  })
  .meta({ id: 'CoverImage' });

const TagRef = z.object({ id: Uuid, slug: z.string(), name: z.string() }).meta({ id: 'TagRef' });
const RelatedArticle = z
  .object({ id: Uuid, slug: z.string(), title: z.string(), publishedAt: Timestamp.nullable() })
  .meta({ id: 'RelatedArticle' });

const summaryShape = {
  id: Uuid,
  slug: z.string(),
  locale: z.string(),
  status: ArticleStatus,
  title: z.string(),
  lead: z.string().nullable(),
  label: ArticleLabel.nullable(),
  section: z.string().nullable(),
  byline: z.string().nullable(),
  tags: z.array(TagRef),
  coverImage: CoverImage.nullable(),
  canonicalUrl: z.string().nullable().meta({ description: "Set by editors when the article's page is not where SITE_ARTICLE_PATH puts it" }),
  url: z.string().nullable().meta({
    description: "The article's page on the news website: canonicalUrl, else SITE_URL + SITE_ARTICLE_PATH; null while SITE_URL is unset (or the path has a date and the article was never published)",
    example: 'https://news.example/articles/kyiv-braces-for-winter-blackouts',
  }),
  publishedAt: Timestamp.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  version: z.number().int().min(1),
};

export const ArticleSummary = z.object(summaryShape).meta({ id: 'ArticleSummary' });

export const Article = z
  .object({
    ...summaryShape,
    body: z.array(BlockOutput),
    sources: z.array(Source),
    related: z.array(RelatedArticle),
    bodyHtml: z.string().optional().meta({ description: 'Present with ?format=html: the body rendered as HTML' }),
  })
  .meta({ id: 'Article', example: SEED_ARTICLE_EXAMPLE });

export const ArticlePage = page(ArticleSummary, 'ArticlePage');

const tagFields = {
  tagIds: z.array(Uuid).max(50).optional().meta({ description: 'Ordered tags by id (or use tagSlugs)' }),
  tagSlugs: z.array(Slug).max(50).optional().meta({ description: "Ordered tags by slug, in the article's locale" }),
};

const writableFields = {
  title: Title,
  slug: Slug.optional().meta({ description: 'Made from the title when absent (Cyrillic is transliterated)' }),
  locale: Locale.optional(),
  lead: Lead.nullable().optional(),
  body: BodyInput.optional(),
  label: ArticleLabel.nullable().optional(),
  section: SectionSlug.nullable().optional(),
  byline: z.string().trim().max(300).nullable().optional(),
  sources: z.array(Source).max(50).optional(),
  coverImage: CoverImage.nullable().optional(),
  canonicalUrl: HttpUrl.nullable().optional().meta({ description: "The article's page when SITE_ARTICLE_PATH does not say it (null: back to that)" }),
  relatedIds: z.array(Uuid).max(20).optional().meta({ description: '"Read also" articles, in order' }),
  ...tagFields,
};

const oneWayToTag = (input: { tagIds?: unknown; tagSlugs?: unknown }) => !(input.tagIds && input.tagSlugs);
const TAG_CHOICE = { message: 'Send tagIds or tagSlugs, not both', path: ['tagSlugs'] };

export const ArticleCreate = z
  .strictObject(writableFields)
  .refine(oneWayToTag, TAG_CHOICE)
  .meta({
    id: 'ArticleCreate',
    example: {
      title: 'Kyiv braces for winter blackouts',
      locale: 'en',
      lead: 'Engineers race to repair the grid before the first frost.',
      section: 'news',
      tagSlugs: ['energy'],
      body: [
        { type: 'paragraph', text: 'Power engineers worked through the night, <strong>again</strong>.' },
        { type: 'quote', text: 'We fix what we can before it freezes.', attribution: 'A Kyiv grid engineer' },
      ],
    },
  });

export const ArticleUpdate = z
  .strictObject({ ...writableFields, title: Title.optional() })
  .refine(oneWayToTag, TAG_CHOICE)
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one field to change')
  .meta({ id: 'ArticleUpdate', example: { lead: 'Engineers race to repair the grid before the first frost.', label: 'exclusive' } });

export const PublishRequest = z
  .strictObject({
    publishAt: Timestamp.optional().meta({ description: 'When it goes live; in the future it is scheduled. Default: now' }),
    addToTimeline: z.boolean().optional().meta({ description: 'Make its latest-news entry (default true)' }),
  })
  .meta({ id: 'PublishRequest', example: { publishAt: '2024-11-22T18:00:00.000Z', addToTimeline: true } });

const repeatable = <T extends z.ZodType>(item: T) =>
  z.preprocess((value) => (value === undefined || Array.isArray(value) ? value : [value]), z.array(item).max(10).optional());

/** GET queries are plain objects: parameters they do not know (utm_*, cache busters) are dropped, not refused. */
export const ArticleListQuery = z.object({
  locale: LocaleFilter,
  status: ArticleStatus.optional().meta({ description: 'Anything but published needs a key' }),
  tag: repeatable(Slug).meta({ description: 'Tag slug; repeat for articles having all of them' }),
  section: SectionSlug.optional().meta({ description: 'Section slug: articles of that section only' }),
  label: ArticleLabel.optional().meta({ description: 'Articles carrying this label only' }),
  q: SearchText(200).meta({ description: 'Full-text search over title, lead and body; ranked. Empty: no search' }),
  publishedAfter: Timestamp.optional().meta({ description: 'Published after this instant' }),
  publishedBefore: Timestamp.optional().meta({ description: 'Published before this instant' }),
  ...PageQuery,
});

export const ArticleReadQuery = z.object({
  locale: SlugLocale,
  format: z.enum(['json', 'html']).optional().meta({ description: '`html` adds bodyHtml' }),
});

export const ArticleIdOrSlugParams = z.strictObject({
  idOrSlug: z.union([Uuid, Slug]).meta({ description: 'The article id, or its current slug (looked up as `locale` says)' }),
});
/** Where PATCH and DELETE look a slug up: as GET does (docs/adr/0009-locales.md). */
export const ArticleWriteQuery = z.strictObject({ locale: SlugLocale });
export const ArticleIdParams = z.strictObject({
  id: Uuid.meta({ description: 'The article id' }),
});

export const RevisionSummary = z
  .object({
    version: z.number().int(),
    savedAt: Timestamp,
    savedBy: z.object({ keyId: Uuid.nullable(), name: z.string() }),
  })
  .meta({ id: 'RevisionSummary' });
export const Revision = RevisionSummary.extend({ article: Article }).meta({ id: 'Revision' });
export const RevisionList = z.object({ data: z.array(RevisionSummary) }).meta({ id: 'RevisionList' });
export const RevisionParams = z.strictObject({
  id: Uuid.meta({ description: 'The article id' }),
  version: z.coerce.number().int().min(1).max(1_000_000).meta({ description: 'The version, as `version` in the article and its revision list' }),
});

export type ArticleCreateInput = z.output<typeof ArticleCreate>;
export type ArticleUpdateInput = z.output<typeof ArticleUpdate>;
/** An article as answers show it; `url` comes from the configuration (withArticleUrl). */
export type ArticleWire = Omit<z.input<typeof Article>, 'url'>;
export type ArticleSummaryWire = Omit<z.input<typeof ArticleSummary>, 'url'>;
export type ArticleListFilters = z.output<typeof ArticleListQuery>;
