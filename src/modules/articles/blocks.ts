import { z } from 'zod';
import type { FieldError } from '../../http/app-error.js';
import { Slug, Uuid } from '../../http/common.schemas.js';
import { escapeHtml, inlineToText, sanitizeInline } from './inline-html.js';

/**
 * Limits on what one body may hold. Sanitising costs time in proportion to the markup, so the
 * inline text of a body is capped as a whole, and checked before any block is sanitised.
 */
const BODY_LIMITS = {
  blocks: 500,
  /** All the inline HTML of a body together: paragraphs, headings, quotes, list items, captions. */
  inlineText: 100_000,
  paragraphText: 10_000,
  headingText: 300,
  listItems: 200,
  listItemText: 2_000,
  captionText: 1_000,
} as const;

const URL_MAX_LENGTH = 2_000;
export const ARTICLE_TITLE_MAX_LENGTH = 300;

/** Inline text: sanitised on the way in; what is stored and returned is the clean form. */
const InlineText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .transform((html, ctx) => {
      const clean = sanitizeInline(html);
      if (clean.trim() === '') {
        ctx.addIssue({ code: 'custom', message: 'has no text left once disallowed markup is removed' });
        return z.NEVER;
      }
      return clean;
    })
    .meta({
      description:
        'Inline HTML: only <a href>, <strong>, <em> and <br> are kept. A link keeps its text but loses the link ' +
        'unless its target is an absolute http, https or mailto URL without a user name or password.',
    });

const PlainText = (max: number) => z.string().trim().min(1).max(max);

function hasCredentials(href: string): boolean {
  if (!URL.canParse(href)) return false; // reported as not a URL
  const url = new URL(href);
  return url.username !== '' || url.password !== '';
}

/** Parsed by the WHATWG URL parser and stored as it normalises it (trimmed; spaces, quotes and <> percent-encoded). */
export const HttpUrl = z
  .url({ protocol: /^https?$/, normalize: true, error: 'must be an http or https URL' })
  .max(URL_MAX_LENGTH)
  .refine((href) => !hasCredentials(href), 'must not contain a user name or password')
  .meta({
    example: 'https://example.com/photo.jpg',
    description: 'An absolute http(s) URL without a user name or password; stored as the WHATWG URL parser normalises it',
  });

const Paragraph = z.strictObject({ type: z.literal('paragraph'), text: InlineText(BODY_LIMITS.paragraphText) });
const HeadingLevel = z.union([z.literal(2), z.literal(3), z.literal(4)]);

const Heading = z.strictObject({
  type: z.literal('heading'),
  level: HeadingLevel,
  text: InlineText(BODY_LIMITS.headingText),
});
const Quote = z.strictObject({
  type: z.literal('quote'),
  text: InlineText(BODY_LIMITS.paragraphText),
  attribution: PlainText(300).optional(),
});
const List = z.strictObject({
  type: z.literal('list'),
  style: z.enum(['bullet', 'ordered']),
  items: z.array(InlineText(BODY_LIMITS.listItemText)).min(1).max(BODY_LIMITS.listItems),
});
const Image = z.strictObject({
  type: z.literal('image'),
  url: HttpUrl,
  alt: z.string().trim().max(500),
  caption: InlineText(BODY_LIMITS.captionText).optional(),
  credit: PlainText(300).optional(),
});
const Embed = z.strictObject({
  type: z.literal('embed'),
  url: HttpUrl.meta({
    description:
      'An absolute http(s) URL without a user name or password, stored normalised; when the newsroom restricts ' +
      'embed hosts, its host must be one of them',
  }),
  provider: PlainText(100).optional(),
});
/** On read, a related block carries the article it points to (null when the caller may not see it). */
export const ArticleRef = z
  // Bounded as an article's slug and title are: a body read back and written back sends it too.
  .object({ id: Uuid, slug: Slug, title: z.string().max(ARTICLE_TITLE_MAX_LENGTH) })
  .meta({ id: 'ArticleRef' });

/**
 * A related block as written. `article` is what a read adds: accepted so a body read back can be
 * written back unchanged, and dropped (the server resolves it from articleId on every read).
 */
const RelatedInput = z
  .strictObject({
    type: z.literal('related'),
    articleId: Uuid,
    article: ArticleRef.nullable().optional().meta({ description: 'Read-only: ignored on write, resolved from articleId on read' }),
  })
  .transform(({ type, articleId }) => ({ type, articleId }));

export const BlockInput = z
  .discriminatedUnion('type', [Paragraph, Heading, Quote, List, Image, Embed, RelatedInput])
  .meta({ id: 'BlockWrite' });

/** The length of all inline text in blocks as sent, before any is sanitised. */
function inlineTextLength(blocks: unknown[]): number {
  let total = 0;
  for (const block of blocks) {
    if (block === null || typeof block !== 'object') continue;
    const { text, caption, items } = block as Record<string, unknown>;
    for (const value of [text, caption, ...(Array.isArray(items) ? items : [])]) {
      if (typeof value === 'string') total += value.length;
    }
  }
  return total;
}

export const BodyInput = z
  .preprocess((blocks, ctx) => {
    // Over the block limit the array's own check answers, without this walk.
    if (Array.isArray(blocks) && blocks.length <= BODY_LIMITS.blocks && inlineTextLength(blocks) > BODY_LIMITS.inlineText) {
      ctx.addIssue({ code: 'custom', message: `the inline text of all blocks together must be at most ${BODY_LIMITS.inlineText} characters` });
    }
    return blocks;
  }, z.array(BlockInput).max(BODY_LIMITS.blocks))
  .meta({
    description:
      `At most ${BODY_LIMITS.blocks} blocks, whose inline text (paragraphs, headings, quotes, list items, captions) ` +
      `together is at most ${BODY_LIMITS.inlineText} characters as sent`,
  });

export type Block = z.output<typeof BlockInput>;

const RelatedOutput = z.object({
  type: z.literal('related'),
  articleId: Uuid,
  article: ArticleRef.nullable(),
});

const plain = <T extends z.ZodRawShape>(shape: T) => z.object(shape);

export const BlockOutput = z
  .discriminatedUnion('type', [
    plain({ type: z.literal('paragraph'), text: z.string() }),
    plain({ type: z.literal('heading'), level: HeadingLevel, text: z.string() }),
    plain({ type: z.literal('quote'), text: z.string(), attribution: z.string().optional() }),
    plain({ type: z.literal('list'), style: z.enum(['bullet', 'ordered']), items: z.array(z.string()) }),
    plain({ type: z.literal('image'), url: z.string(), alt: z.string(), caption: z.string().optional(), credit: z.string().optional() }),
    plain({ type: z.literal('embed'), url: z.string(), provider: z.string().optional() }),
    RelatedOutput,
  ])
  .meta({ id: 'Block' });

export type BlockWire = z.input<typeof BlockOutput>;
export type ArticleRefWire = z.input<typeof ArticleRef>;

/** Embed blocks whose host is not in `hosts` (EMBED_HOSTS), as errors naming each one. */
export function embedsOutside(body: Block[], hosts: ReadonlySet<string>): FieldError[] {
  const errors: FieldError[] = [];
  body.forEach((block, i) => {
    if (block.type !== 'embed') return;
    const host = new URL(block.url).hostname;
    if (!hosts.has(host)) errors.push({ path: `body.body.${i}.url`, message: `embeds from ${host} are not allowed here` });
  });
  return errors;
}

export function relatedArticleIds(body: Block[]): string[] {
  return [...new Set(body.flatMap((block) => (block.type === 'related' ? [block.articleId] : [])))];
}

/** All readable text of a body, for full-text search. */
export function bodyText(body: Block[]): string {
  const parts: string[] = [];
  for (const block of body) {
    switch (block.type) {
      case 'paragraph':
      case 'heading':
        parts.push(inlineToText(block.text));
        break;
      case 'quote':
        parts.push(inlineToText(block.text), block.attribution ?? '');
        break;
      case 'list':
        parts.push(...block.items.map(inlineToText));
        break;
      case 'image':
        parts.push(block.alt, block.caption ? inlineToText(block.caption) : '', block.credit ?? '');
        break;
      default:
        break;
    }
  }
  return parts.filter(Boolean).join('\n');
}

/**
 * Resolves related blocks for one reader: `resolve` returns the referenced article when the reader
 * may see it. Blocks pointing at an article the reader may not see are left out entirely.
 */
export function resolveBlocks(body: Block[], resolve: (id: string) => ArticleRefWire | undefined, dropHidden: boolean): BlockWire[] {
  const out: BlockWire[] = [];
  for (const block of body) {
    if (block.type !== 'related') {
      out.push(block);
      continue;
    }
    const article = resolve(block.articleId) ?? null;
    if (article === null && dropHidden) continue;
    out.push({ type: 'related', articleId: block.articleId, article });
  }
  return out;
}

function renderBlock(block: BlockWire): string {
  switch (block.type) {
    case 'paragraph':
      return `<p>${block.text}</p>`;
    case 'heading':
      return `<h${block.level}>${block.text}</h${block.level}>`;
    case 'quote': {
      const footer = block.attribution ? `<footer>${escapeHtml(block.attribution)}</footer>` : '';
      return `<blockquote><p>${block.text}</p>${footer}</blockquote>`;
    }
    case 'list': {
      const tag = block.style === 'ordered' ? 'ol' : 'ul';
      return `<${tag}>${block.items.map((item) => `<li>${item}</li>`).join('')}</${tag}>`;
    }
    case 'image': {
      const credit = block.credit ? ` <small>${escapeHtml(block.credit)}</small>` : '';
      const caption = block.caption || block.credit ? `<figcaption>${block.caption ?? ''}${credit}</figcaption>` : '';
      return `<figure><img src="${escapeHtml(block.url)}" alt="${escapeHtml(block.alt)}">${caption}</figure>`;
    }
    case 'embed':
      return `<figure class="embed"><a href="${escapeHtml(block.url)}">${escapeHtml(block.provider ?? block.url)}</a></figure>`;
    case 'related':
      if (!block.article) return '';
      return (
        `<aside class="read-also" data-article-id="${escapeHtml(block.article.id)}" data-slug="${escapeHtml(block.article.slug)}">` +
        `${escapeHtml(block.article.title)}</aside>`
      );
  }
}

/** HTML for `?format=html`: inline text is already clean; everything else is escaped here. */
export function renderBodyHtml(body: BlockWire[]): string {
  return body.map(renderBlock).filter(Boolean).join('\n');
}
