import { and, desc, eq, inArray, isNull, ne, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { preparedStatements } from '../../db/prepared.js';
import {
  articleRelated,
  articleRevisions,
  articles,
  articleSlugRedirects,
  articleTags,
} from '../../db/schema/articles.js';
import { tags } from '../../db/schema/tags.js';
import { timelineEntries } from '../../db/schema/timeline.js';
import type { Block } from './blocks.js';
import { liveCondition, linkPublishedAt, type Viewer, visibleTo } from './visibility.js';

export type ArticleRow = Omit<typeof articles.$inferSelect, 'search' | 'body' | 'sources' | 'coverImage'> & {
  body: Block[];
  sources: { name: string; url?: string }[];
  coverImage: { url: string; alt: string; caption?: string; credit?: string } | null;
};
export type ArticleValues = Omit<ArticleRow, 'id' | 'createdAt' | 'updatedAt' | 'deletedAt' | 'version'>;
export interface TagRef {
  id: string;
  slug: string;
  name: string;
}

/** Every column but the search vector, which only queries read. */
export const articleColumns = {
  id: articles.id,
  locale: articles.locale,
  slug: articles.slug,
  status: articles.status,
  title: articles.title,
  lead: articles.lead,
  body: articles.body,
  label: articles.label,
  section: articles.section,
  byline: articles.byline,
  sources: articles.sources,
  coverImage: articles.coverImage,
  canonicalUrl: articles.canonicalUrl,
  publishedAt: articles.publishedAt,
  createdAt: articles.createdAt,
  updatedAt: articles.updatedAt,
  deletedAt: articles.deletedAt,
  version: articles.version,
};

/** Search document: English stems for English text, plain lowercase words for every language. */
function searchVector(title: string, lead: string | null, text: string): SQL {
  const weighted = (value: string, weight: 'A' | 'B' | 'C') =>
    sql`setweight(to_tsvector('english', ${value}) || to_tsvector('simple', ${value}), ${sql.raw(`'${weight}'`)})`;
  return sql`${weighted(title, 'A')} || ${weighted(lead ?? '', 'B')} || ${weighted(text, 'C')}`;
}

export function searchQuery(q: string): SQL {
  return sql`(websearch_to_tsquery('english', ${q}) || websearch_to_tsquery('simple', ${q}))`;
}

export async function insertArticle(db: Database, values: ArticleValues, text: string): Promise<ArticleRow> {
  const [row] = await db
    .insert(articles)
    .values({ ...values, search: searchVector(values.title, values.lead, text) as unknown as string })
    .returning(articleColumns);
  if (!row) throw new Error('insert into articles returned no row');
  return row as ArticleRow;
}

/** Applies a change only if the article is still at a version the client read. */
export async function updateArticleIfVersion(
  db: Database,
  id: string,
  versions: number[],
  changes: Partial<ArticleValues> & { deletedAt?: Date },
  searchable: { title: string; lead: string | null; text: string } | null,
): Promise<ArticleRow | undefined> {
  if (versions.length === 0) return undefined;
  const set: Record<string, unknown> = { ...changes, version: sql`${articles.version} + 1`, updatedAt: sql`now()` };
  if (searchable !== null) set.search = searchVector(searchable.title, searchable.lead, searchable.text);
  const [row] = await db
    .update(articles)
    .set(set)
    .where(and(eq(articles.id, id), inArray(articles.version, versions), isNull(articles.deletedAt)))
    .returning(articleColumns);
  return row as ArticleRow | undefined;
}

/** A "Read also" target with what any viewer's filter needs, so one query serves every viewer. */
export interface RelatedLink extends ArticleRefRow {
  live: boolean;
  deleted: boolean;
}

/** The outer query's article id, qualified: drizzle writes a lone table's columns unqualified. */
const outerArticleId = sql.raw('"articles"."id"');

/**
 * The article's tags in order, as one JSON array computed in the article's own query (a
 * correlated subquery on the link table's primary key), so a read costs no extra round trip.
 */
export const tagsJson = sql<TagRef[]>`coalesce((
  select json_agg(json_build_object('id', t.id, 'slug', t.slug, 'name', t.name) order by l.position)
  from ${articleTags} l join ${tags} t on t.id = l.tag_id where l.article_id = ${outerArticleId}
), '[]'::json)`;

const tagsOfArticlesStatement = (db: Database, name: string) =>
  db
    .select({ articleId: articleTags.articleId, id: tags.id, slug: tags.slug, name: tags.name })
    .from(articleTags)
    .innerJoin(tags, eq(tags.id, articleTags.tagId))
    .where(sql`${articleTags.articleId} = any(${sql.placeholder('ids')}::uuid[])`)
    .orderBy(articleTags.articleId, articleTags.position)
    .prepare(name);
const preparedTagsOf = preparedStatements<ReturnType<typeof tagsOfArticlesStatement>>('lede_tags', 1);

/** The tags of several articles, each article's in order, in one statement (a list page's). */
export async function tagsOfArticles(db: Database, ids: string[]): Promise<Map<string, TagRef[]>> {
  const byArticle = new Map<string, TagRef[]>();
  if (ids.length === 0) return byArticle;
  const rows = await preparedTagsOf(db, 'of_articles', (name) => tagsOfArticlesStatement(db, name)).execute({ ids });
  for (const { articleId, ...tag } of rows) {
    const list = byArticle.get(articleId);
    if (list) list.push(tag);
    else byArticle.set(articleId, [tag]);
  }
  return byArticle;
}

/** Every "Read also" target in order, visible or not: the caller filters for its viewer. */
const relatedJson = sql<RelatedJson[]>`coalesce((
  select json_agg(json_build_object(
    'id', r.id, 'slug', r.slug, 'title', r.title, 'publishedAt', r.published_at,
    'live', ${liveCondition({ status: sql.raw('r.status'), publishedAt: sql.raw('r.published_at'), deletedAt: sql.raw('r.deleted_at') })},
    'deleted', r.deleted_at is not null
  ) order by l.position)
  from ${articleRelated} l join ${articles} r on r.id = l.related_id where l.article_id = ${outerArticleId}
), '[]'::json)`;

type RelatedJson = Omit<RelatedLink, 'publishedAt'> & { publishedAt: string | null };

export type ArticleWithLinks = ArticleRow & { tags: TagRef[]; related: RelatedLink[] };

function relatedLinks(json: RelatedJson[]): RelatedLink[] {
  return json.map((link) => ({ ...link, publishedAt: link.publishedAt === null ? null : new Date(link.publishedAt) }));
}

export type ArticleKey = { id: string } | { slug: string; locale: string };

function articleWithLinksQuery(db: Database, byId: boolean, viewer: Viewer) {
  const where = byId
    ? eq(articles.id, sql.placeholder('id'))
    : and(eq(articles.locale, sql.placeholder('locale')), eq(articles.slug, sql.placeholder('slug')));
  return db
    .select({ ...articleColumns, tags: tagsJson, related: relatedJson })
    .from(articles)
    .where(and(where, visibleTo(viewer)))
    .limit(1);
}

type PreparedArticle = ReturnType<ReturnType<typeof articleWithLinksQuery>['prepare']>;
const preparedArticles = preparedStatements<PreparedArticle>('lede_article');

/** The article with its tags and "Read also" targets, in one query. */
export async function findArticleWithLinks(db: Database, key: ArticleKey, viewer: Viewer): Promise<ArticleWithLinks | undefined> {
  const byId = 'id' in key;
  const shape = `${byId ? 'id' : 'slug'}_${viewer.seesUnpublished ? 'editorial' : 'anonymous'}`;
  const prepared = preparedArticles(db, shape, (name) => articleWithLinksQuery(db, byId, viewer).prepare(name));
  const [row] = await prepared.execute(key);
  if (!row) return undefined;
  return { ...(row as unknown as ArticleRow), tags: row.tags, related: relatedLinks(row.related) };
}

/** The live articles carrying a tag, with their links: those a tag's deletion changes for readers. */
export async function liveArticlesTagged(db: Database, tagId: string): Promise<ArticleWithLinks[]> {
  const rows = await db
    .select({ ...articleColumns, tags: tagsJson, related: relatedJson })
    .from(articles)
    .where(and(liveCondition(), sql`exists (select 1 from ${articleTags} l where l.article_id = ${outerArticleId} and l.tag_id = ${tagId})`));
  return rows.map((row) => ({ ...(row as unknown as ArticleRow), tags: row.tags, related: relatedLinks(row.related) }));
}

/** What an article links to, and whether the timeline shows it: what a revision and an invalidation need. */
export interface ArticleLinks {
  tags: TagRef[];
  related: RelatedLink[];
  inTimeline: boolean;
}

/** Tags, "Read also" targets and timeline presence of an article already read, in one query. */
export async function linksOf(db: Database, articleId: string): Promise<ArticleLinks> {
  const [row] = await db
    .select({
      tags: tagsJson,
      related: relatedJson,
      inTimeline: sql<boolean>`exists (select 1 from ${timelineEntries} e where e.article_id = ${outerArticleId})`,
    })
    .from(articles)
    .where(eq(articles.id, articleId));
  return row ? { tags: row.tags, related: relatedLinks(row.related), inTimeline: row.inTimeline } : { tags: [], related: [], inTimeline: false };
}

export async function findArticle(db: Database, where: SQL, viewer: Viewer): Promise<ArticleRow | undefined> {
  const [row] = await db.select(articleColumns).from(articles).where(and(where, visibleTo(viewer))).limit(1);
  return row as ArticleRow | undefined;
}

export const byId = (id: string) => eq(articles.id, id);

/**
 * Takes the article's row lock for the rest of the transaction, before anything of it is read:
 * two writes of one article then run one after the other, and the second reads (in a statement of
 * its own, so with a fresh snapshot) what the first committed, links included. Without it a
 * publish that read the links before a concurrent tag change committed left the links' copy of
 * the publication time stale. NO KEY UPDATE is what an UPDATE takes itself; unlike FOR UPDATE it
 * does not block the key-share locks that other articles' foreign keys (related links) take.
 */
export async function lockArticle(db: Database, id: string): Promise<boolean> {
  const rows = await db.select({ id: articles.id }).from(articles).where(and(eq(articles.id, id), isNull(articles.deletedAt))).for('no key update');
  return rows.length > 0;
}

/** The article as committed, held for the transaction (an update or delete of it waits). */
export async function findArticleHeld(db: Database, id: string, mode: 'share' | 'no key update'): Promise<ArticleRow | undefined> {
  const [row] = await db.select(articleColumns).from(articles).where(and(eq(articles.id, id), isNull(articles.deletedAt))).for(mode);
  return row as ArticleRow | undefined;
}

export const bySlug = (slug: string, locale: string) => and(eq(articles.locale, locale), eq(articles.slug, slug)) as SQL;

export async function findRedirect(db: Database, locale: string, slug: string): Promise<string | undefined> {
  const [row] = await db
    .select({ articleId: articleSlugRedirects.articleId })
    .from(articleSlugRedirects)
    .where(and(eq(articleSlugRedirects.locale, locale), eq(articleSlugRedirects.slug, slug)))
    .limit(1);
  return row?.articleId;
}

/**
 * The locales in which `slug` finds an article `viewer` may see, as its current slug or a former
 * one (by the slug indexes: a lookup without a locale that missed in the default one).
 */
export async function localesWithSlug(db: Database, slug: string, viewer: Viewer): Promise<string[]> {
  const current = db.selectDistinct({ locale: articles.locale }).from(articles).where(and(eq(articles.slug, slug), visibleTo(viewer)));
  const former = db
    .select({ locale: articleSlugRedirects.locale })
    .from(articleSlugRedirects)
    .innerJoin(articles, eq(articles.id, articleSlugRedirects.articleId))
    .where(and(eq(articleSlugRedirects.slug, slug), visibleTo(viewer)));
  const rows = await current.union(former);
  return rows.map((row) => row.locale).sort();
}

/** The old slug now points at this article; a live article taking a slug removes its redirect. */
export async function recordSlugChange(db: Database, articleId: string, locale: string, oldSlug: string): Promise<void> {
  await db
    .insert(articleSlugRedirects)
    .values({ locale, slug: oldSlug, articleId })
    .onConflictDoUpdate({ target: [articleSlugRedirects.locale, articleSlugRedirects.slug], set: { articleId, createdAt: sql`now()` } });
}

export async function removeRedirect(db: Database, locale: string, slug: string): Promise<void> {
  await db.execute(redirectRemoval(db, locale, slug));
}

/** The statement that drops a redirect from a slug an article now holds. */
export function redirectRemoval(db: Database, locale: string, slug: string): SQL {
  return db.delete(articleSlugRedirects).where(and(eq(articleSlugRedirects.locale, locale), eq(articleSlugRedirects.slug, slug))).getSQL();
}

export async function replaceTags(db: Database, article: ArticleRow, tagIds: string[]): Promise<void> {
  await db.delete(articleTags).where(eq(articleTags.articleId, article.id));
  if (tagIds.length === 0) return;
  const publishedAt = linkPublishedAt(article);
  await db.insert(articleTags).values(tagIds.map((tagId, position) => ({ articleId: article.id, tagId, position, publishedAt })));
}

/** Keeps the links' copy of the publication time in step with the article. */
export async function syncTagLinks(db: Database, article: ArticleRow): Promise<void> {
  await db.update(articleTags).set({ publishedAt: linkPublishedAt(article) }).where(eq(articleTags.articleId, article.id));
}

export async function replaceRelated(db: Database, articleId: string, relatedIds: string[]): Promise<void> {
  await db.delete(articleRelated).where(eq(articleRelated.articleId, articleId));
  if (relatedIds.length === 0) return;
  await db.insert(articleRelated).values(relatedIds.map((relatedId, position) => ({ articleId, relatedId, position })));
}

export async function tagIdsOf(db: Database, articleId: string): Promise<string[]> {
  const rows = await db.select({ tagId: articleTags.tagId }).from(articleTags).where(eq(articleTags.articleId, articleId));
  return rows.map((row) => row.tagId);
}

export interface ArticleRefRow {
  id: string;
  slug: string;
  title: string;
  publishedAt: Date | null;
}

/** The referenced articles the viewer may see (for "Read also" and related blocks). */
export async function refsVisibleTo(db: Database, ids: string[], viewer: Viewer): Promise<Map<string, ArticleRefRow>> {
  const refs = new Map<string, ArticleRefRow>();
  if (ids.length === 0) return refs;
  const rows = await db
    .select({ id: articles.id, slug: articles.slug, title: articles.title, publishedAt: articles.publishedAt })
    .from(articles)
    .where(and(inArray(articles.id, ids), visibleTo(viewer)));
  for (const row of rows) refs.set(row.id, row);
  return refs;
}

export async function existingArticleIds(db: Database, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: articles.id })
    .from(articles)
    .where(and(inArray(articles.id, ids), isNull(articles.deletedAt)));
  return new Set(rows.map((row) => row.id));
}

/*
 * Tags named by a write are read FOR KEY SHARE (the lock the links' foreign keys take anyway): a
 * tag moving to another locale meanwhile waits for the write, then sees its links (ADR 9).
 */

export async function tagIdsBySlug(db: Database, locale: string, slugs: string[]): Promise<Map<string, string>> {
  if (slugs.length === 0) return new Map();
  const rows = await db
    .select({ id: tags.id, slug: tags.slug })
    .from(tags)
    .where(and(eq(tags.locale, locale), inArray(tags.slug, slugs)))
    .for('key share');
  return new Map(rows.map((row) => [row.slug, row.id]));
}

/** The locale of each named tag that exists. */
export async function tagLocales(db: Database, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select({ id: tags.id, locale: tags.locale }).from(tags).where(inArray(tags.id, ids)).for('key share');
  return new Map(rows.map((row) => [row.id, row.locale]));
}

/** Slugs of the article's tags that are not in `locale`. */
export async function tagSlugsOutside(db: Database, articleId: string, locale: string): Promise<string[]> {
  const rows = await db
    .select({ slug: tags.slug })
    .from(articleTags)
    .innerJoin(tags, eq(tags.id, articleTags.tagId))
    .where(and(eq(articleTags.articleId, articleId), ne(tags.locale, locale)))
    .orderBy(articleTags.position);
  return rows.map((row) => row.slug);
}

/** The statement that saves a revision (it rides along with the write's closing statement). */
export function revisionInsert(
  db: Database,
  values: { articleId: string; version: number; snapshot: unknown; savedByKeyId: string | null; savedByName: string },
): SQL {
  return db.insert(articleRevisions).values(values).getSQL();
}

export async function listRevisions(db: Database, articleId: string) {
  return db
    .select({
      version: articleRevisions.version,
      savedAt: articleRevisions.savedAt,
      savedByKeyId: articleRevisions.savedByKeyId,
      savedByName: articleRevisions.savedByName,
    })
    .from(articleRevisions)
    .where(eq(articleRevisions.articleId, articleId))
    .orderBy(desc(articleRevisions.version));
}

export async function findRevision(db: Database, articleId: string, version: number) {
  const [row] = await db
    .select()
    .from(articleRevisions)
    .where(and(eq(articleRevisions.articleId, articleId), eq(articleRevisions.version, version)))
    .limit(1);
  return row;
}

/** Whether an article ever existed (deleted ones included), for revisions after deletion. */
export async function articleEverExisted(db: Database, id: string): Promise<boolean> {
  const [row] = await db.select({ id: articles.id }).from(articles).where(eq(articles.id, id)).limit(1);
  return row !== undefined;
}
