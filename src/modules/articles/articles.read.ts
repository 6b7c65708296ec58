import { Timestamp } from '../../http/common.schemas.js';
import { z } from 'zod';
import type { Database } from '../../db/database.js';
import { AppError, ambiguousSlug } from '../../http/app-error.js';
import { isoTime, isoTimeOrNull } from '../../http/common.schemas.js';
import { decodeCursor, paginate } from '../../http/cursor.js';
import { looksLikeUuid } from '../../lib/uuid.js';
import * as lists from './articles.list-query.js';
import * as repo from './articles.repository.js';
import type { ArticleListFilters, ArticleSummaryWire, ArticleWire } from './articles.schemas.js';
import { relatedArticleIds, renderBodyHtml, resolveBlocks } from './blocks.js';
import { ANONYMOUS, EDITORIAL, effectiveStatus, type Viewer } from './visibility.js';

const ARTICLES_CURSOR = 'articles';
const ListCursor = z.union([
  z.tuple([Timestamp, z.uuid()]),
  z.tuple([z.string().regex(/^\d+(\.\d+)?$/), Timestamp, z.uuid()]),
]);

export function articleNotFound(idOrSlug: string): AppError {
  return new AppError('ARTICLE_NOT_FOUND', `No article has the id or slug "${idOrSlug}".`);
}

function summaryWire(row: Omit<repo.ArticleRow, 'body' | 'sources'>, tags: repo.TagRef[]): ArticleSummaryWire {
  return {
    id: row.id,
    slug: row.slug,
    locale: row.locale,
    status: effectiveStatus(row.status, row.publishedAt),
    title: row.title,
    lead: row.lead,
    label: row.label,
    section: row.section,
    byline: row.byline,
    tags,
    coverImage: row.coverImage,
    canonicalUrl: row.canonicalUrl,
    publishedAt: isoTimeOrNull(row.publishedAt),
    createdAt: isoTime(row.createdAt),
    updatedAt: isoTime(row.updatedAt),
    version: row.version,
  };
}

function refLookup(refs: Map<string, repo.ArticleRefRow>) {
  return (id: string) => {
    const ref = refs.get(id);
    return ref && { id: ref.id, slug: ref.slug, title: ref.title };
  };
}

/** The "Read also" targets `viewer` may see, in order. */
function relatedFor(viewer: Viewer, links: repo.RelatedLink[]) {
  return links
    .filter((link) => (viewer.seesUnpublished ? !link.deleted : link.live))
    .map((link) => ({ id: link.id, slug: link.slug, title: link.title, publishedAt: isoTimeOrNull(link.publishedAt) }));
}

/**
 * Every article a reading of this one shows something of, visible now or not: its "Read also"
 * and related-block targets. A response depends on all of them (one becoming live appears in it).
 */
export function referencedArticleIds(row: Pick<repo.ArticleWithLinks, 'body' | 'related'>): string[] {
  return [...new Set([...row.related.map((link) => link.id), ...relatedArticleIds(row.body)])];
}

/**
 * The whole article as `viewer` may see it: tags, "Read also" and related blocks resolved. Tags
 * and "Read also" come with the row (findArticleWithLinks) or in one more query; related blocks'
 * targets cost a query only when the body has such blocks.
 */
export async function articleWire(
  db: Database,
  row: repo.ArticleRow & Partial<Pick<repo.ArticleWithLinks, 'tags' | 'related'>>,
  viewer: Viewer,
  withHtml = false,
): Promise<ArticleWire> {
  const [links, blockRefs] = await Promise.all([
    row.tags && row.related ? { tags: row.tags, related: row.related } : repo.linksOf(db, row.id),
    repo.refsVisibleTo(db, relatedArticleIds(row.body), viewer),
  ]);
  const body = resolveBlocks(row.body, refLookup(blockRefs), !viewer.seesUnpublished);
  return {
    ...summaryWire(row, links.tags),
    body,
    sources: row.sources,
    related: relatedFor(viewer, links.related),
    ...(withHtml ? { bodyHtml: renderBodyHtml(body) } : {}),
  };
}

/**
 * `shows`: the other articles the response shows something of (named in Surrogate-Key);
 * `hidesReferences`: it refers to some the viewer may not see, which may appear in it later;
 * `otherLocale`: a slug without a locale found outside DEFAULT_LOCALE, which an article taking
 * the slug there would displace.
 */
export type ArticleLookup = (
  | { article: ArticleWire; shows: string[]; hidesReferences: boolean }
  | { movedTo: { slug: string; locale: string } }
) & { otherLocale?: boolean };

function shownReferences(article: ArticleWire): string[] {
  const shown = new Set(article.related.map((link) => link.id));
  for (const block of article.body) if (block.type === 'related' && block.article) shown.add(block.articleId);
  return [...shown];
}

async function found(db: Database, row: repo.ArticleWithLinks, options: { viewer: Viewer; html: boolean }): Promise<ArticleLookup> {
  const article = await articleWire(db, row, options.viewer, options.html);
  const shows = shownReferences(article);
  return { article, shows, hidesReferences: referencedArticleIds(row).length > shows.length };
}

/** The slug in one locale: the article that has it, else the one that had it (a redirect). */
async function bySlugIn(db: Database, slug: string, locale: string, options: { viewer: Viewer; html: boolean }): Promise<ArticleLookup | undefined> {
  const row = await repo.findArticleWithLinks(db, { slug, locale }, options.viewer);
  if (row) return found(db, row, options);
  // An old slug answers with the article's current one, if the reader may see that article.
  const movedId = await repo.findRedirect(db, locale, slug);
  const moved = movedId ? await repo.findArticle(db, repo.byId(movedId), options.viewer) : undefined;
  return moved ? { movedTo: { slug: moved.slug, locale: moved.locale } } : undefined;
}

/**
 * By id, or by slug (docs/adr/0009-locales.md): in `locale` when given; without it in
 * `defaultLocale` first, else in the one other locale where the viewer finds the slug. Several
 * other locales and not the default: 404 asking for a locale.
 */
export async function getArticle(
  db: Database,
  idOrSlug: string,
  options: { locale?: string; defaultLocale: string; viewer: Viewer; html: boolean },
): Promise<ArticleLookup> {
  if (looksLikeUuid(idOrSlug)) {
    const row = await repo.findArticleWithLinks(db, { id: idOrSlug }, options.viewer);
    if (row) return found(db, row, options);
    throw articleNotFound(idOrSlug);
  }
  const first = await bySlugIn(db, idOrSlug, options.locale ?? options.defaultLocale, options);
  if (first) return first;
  if (options.locale) throw articleNotFound(idOrSlug);
  const others = (await repo.localesWithSlug(db, idOrSlug, options.viewer)).filter((locale) => locale !== options.defaultLocale);
  const [only] = others;
  if (others.length === 1 && only) {
    const other = await bySlugIn(db, idOrSlug, only, options);
    if (other) return { ...other, otherLocale: true };
  }
  if (others.length > 1) throw ambiguousSlug('ARTICLE_NOT_FOUND', idOrSlug, others);
  throw articleNotFound(idOrSlug);
}

/**
 * The id of the article a write names by id or by current slug, found as editors' reads find it
 * (a former slug names nothing to write to: 404).
 */
export async function articleIdOf(db: Database, idOrSlug: string, options: { locale?: string; defaultLocale: string }): Promise<string> {
  if (looksLikeUuid(idOrSlug)) return idOrSlug;
  const found = await getArticle(db, idOrSlug, { ...options, viewer: EDITORIAL, html: false });
  if ('movedTo' in found) throw articleNotFound(idOrSlug);
  return found.article.id;
}

/** Live articles with their bodies rendered to HTML (related blocks resolved), for feeds. */
export async function latestWithHtml(
  db: Database,
  filters: { locale?: string; tag?: string; section?: string; limit: number },
): Promise<(lists.ArticleListRow & { html: string })[]> {
  const rows = await lists.listArticles(db, {
    viewer: ANONYMOUS,
    locale: filters.locale,
    tagSlugs: filters.tag ? [filters.tag] : undefined,
    section: filters.section,
    limit: filters.limit,
    includeBody: true,
  });
  const refIds = [...new Set(rows.flatMap((row) => relatedArticleIds(row.body ?? [])))];
  const refs = await repo.refsVisibleTo(db, refIds, ANONYMOUS);
  return rows.map((row) => ({
    ...row,
    html: renderBodyHtml(resolveBlocks(row.body ?? [], refLookup(refs), true)),
  }));
}

export async function listArticles(db: Database, filters: ArticleListFilters, viewer: Viewer) {
  let after: lists.ListOptions['after'];
  if (filters.cursor) {
    const values = decodeCursor(ARTICLES_CURSOR, filters.cursor, ListCursor);
    after =
      values.length === 3
        ? { rank: values[0], sortAt: new Date(values[1]), id: values[2] }
        : { sortAt: new Date(values[0]), id: values[1] };
    if ((after.rank !== undefined) !== (filters.q !== undefined)) throw new AppError('INVALID_CURSOR', 'The cursor belongs to another query.');
  }
  const rows = await lists.listArticles(db, {
    viewer,
    locale: filters.locale,
    status: filters.status,
    tagSlugs: filters.tag,
    section: filters.section,
    label: filters.label,
    q: filters.q,
    publishedAfter: filters.publishedAfter ? new Date(filters.publishedAfter) : undefined,
    publishedBefore: filters.publishedBefore ? new Date(filters.publishedBefore) : undefined,
    limit: filters.limit + 1,
    after,
  });
  const { data: page, nextCursor } = paginate(rows, filters.limit, ARTICLES_CURSOR, (last) => {
    const key = [last.sortAt.toISOString(), last.id];
    return last.rank === null ? key : [last.rank, ...key];
  });
  return { data: page.map((row) => summaryWire(row, row.tags)), nextCursor };
}
