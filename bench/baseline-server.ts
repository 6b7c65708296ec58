/**
 * The benchmark's yardstick, the true limit (issue 16): the fastest server this stack (Fastify 5 +
 * pg on PostgreSQL) allows for the same answers as Lede's anonymous reads on the bench dataset.
 * It serves Lede's paths with Lede's rows and fields, and does nothing else:
 * - named prepared statements (`pool.query({ name, text, values })`), one per request but for the
 *   lists' tags (below), each LIMIT a validated integer written into the text (one statement per
 *   limit): a `LIMIT $1` once let the generic plan switch to parallel workers;
 * - rows shaped in SQL (camelCase aliases, the page address, an entry's article) and times read
 *   as ISO strings, so the handler passes them through;
 * - response serialisers compiled from JSON schemas (fast-json-stringify), no zod;
 * - no validation beyond what picks the statement, no auth, rate limit, caching headers, request
 *   ids, revisions or events. The article answers an ETag (Lede's algorithm) and 304s, which the
 *   conditional-GET row measures; the feed renders with Lede's XML writer and the sitemap index
 *   with Lede's document function, as those are the answers.
 * An article's tags come with its statement (a correlated json_agg, as Lede reads them). For the
 * lists BASELINE_LIST_TAGS chooses: `two` (the default: the page, then its tags in a second plain
 * statement), `json` (Lede's way: json_agg per row in the page's statement) or `join` (one
 * statement: the page joined to its links, grouped here). `two` was the cheapest, measured
 * (docs/performance.md, "True limit and wrk"): half the database CPU of `json`.
 * Not covered, as the dataset has none: "Read also" links and related blocks of bodies are not
 * resolved (an article's `related` is read, unfiltered by visibility beyond liveness).
 * The bench checks at start that every read's ids match Lede's (bench/run.ts).
 */
import { hash } from 'node:crypto';
import Fastify from 'fastify';
import fastJson from 'fast-json-stringify';
import pg from 'pg';
import { renderBodyHtml, type BlockWire } from '../src/modules/articles/blocks.js';
import { renderFeed } from '../src/modules/feeds/feed-formats.js';
import { imageType } from '../src/modules/feeds/feed-model.js';
import { type IndexEntry, sitemapIndex } from '../src/modules/sitemaps/sitemap-documents.js';
import { localDate } from '../src/lib/local-date.js';

// TimeZone=UTC: every timestamptz comes as 'YYYY-MM-DD HH:MM:SS[.ffffff]+00' (isoFromPostgres).
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_MAX ?? 10), options: '-c TimeZone=UTC' });
const app = Fastify({ logger: false });

/** As Lede's configuration has them in the bench (SITE_URL set, the rest defaults). */
const SITE = process.env.SITE_URL ?? 'https://news.example';
const BASE = (process.env.PUBLIC_BASE_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
const TIMEZONE = process.env.TIMEZONE ?? 'Europe/Kyiv';
const NEWSROOM = process.env.NEWSROOM_NAME ?? 'Lede';
const LIST_TAGS = (process.env.BASELINE_LIST_TAGS ?? 'two') as 'json' | 'join' | 'two';
if (!['json', 'join', 'two'].includes(LIST_TAGS)) throw new Error(`BASELINE_LIST_TAGS: json, join or two, not ${LIST_TAGS}`);
const FEED_SIZE = 50;
const SITEMAP_PAGE_SIZE = 50_000;

const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
/** The article's page, as SITE_ARTICLE_PATH's default (/articles/{slug}) makes it; canonicalUrl wins. */
const pageOf = (alias: string) => `coalesce(${alias}.canonical_url, ${literal(`${SITE}/articles/`)} || ${alias}.slug)`;
const LIVE = (alias: string) => `${alias}.deleted_at is null and ${alias}.status in ('published', 'scheduled') and ${alias}.published_at <= now()`;
/** A live article's status as readers get it: a scheduled one whose time has come is published. */
const STATUS = (alias: string) => `case when ${alias}.status = 'scheduled' then 'published' else ${alias}.status end`;
const SUMMARY = (a: string) =>
  `${a}.id, ${a}.slug, ${a}.locale, ${STATUS(a)} as status, ${a}.title, ${a}.lead, ${a}.label, ${a}.section, ${a}.byline, ` +
  `${a}.cover_image as "coverImage", ${a}.canonical_url as "canonicalUrl", ${pageOf(a)} as url, ${a}.published_at as "publishedAt", ` +
  `${a}.created_at as "createdAt", ${a}.updated_at as "updatedAt", ${a}.version`;
const TAGS_JSON = (a: string) => `coalesce((select json_agg(json_build_object('id', t.id, 'slug', t.slug, 'name', t.name) order by l.position)
  from article_tags l join tags t on t.id = l.tag_id where l.article_id = ${a}.id), '[]'::json) as tags`;
const ISO = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const RELATED_JSON = (a: string) => `coalesce((select json_agg(json_build_object('id', r.id, 'slug', r.slug, 'title', r.title,
  'publishedAt', ${ISO('r.published_at')}) order by l.position)
  from article_related l join articles r on r.id = l.related_id where l.article_id = ${a}.id and ${LIVE('r')}), '[]'::json) as related`;

/*
 * Times for JSON answers go from PostgreSQL's text straight to the ISO string Lede answers
 * (Date#toISOString), with no Date in between: parsing 60 dates a page into Date objects and
 * formatting them again was a fifth of the process's CPU on the timeline. The milliseconds are
 * computed as pg's own parser (postgres-date) and Date do it, so the strings are the same.
 */
const TIMESTAMPTZ = 1184;
const parseTimestamp = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => Date;
function isoFromPostgres(text: string): string {
  if (text.length >= 22 && text.charCodeAt(4) === 45 && text.charCodeAt(10) === 32 && text.endsWith('+00')) {
    const ms = text.charCodeAt(19) === 46 ? Math.trunc(1000 * parseFloat(text.slice(19, -3))) : 0;
    return `${text.slice(0, 10)}T${text.slice(11, 19)}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
  }
  return parseTimestamp(text).toISOString();
}
const iso = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ ? isoFromPostgres : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

// ---- Response schemas (fast-json-stringify), property order as Lede's answers.
const nullable = (type: string) => ({ type: [type, 'null'] });
/** Strings that never need JSON escaping (ISO times made above, uuids, locales): written as they are. */
const plain = { type: 'string', format: 'unsafe' };
const time = plain;
const tagSchema = { type: 'object', properties: { id: plain, slug: { type: 'string' }, name: { type: 'string' } } };
const summaryProperties = {
  id: plain,
  slug: { type: 'string' },
  locale: plain,
  status: { type: 'string' },
  title: { type: 'string' },
  lead: nullable('string'),
  label: nullable('string'),
  section: nullable('string'),
  byline: nullable('string'),
  tags: { type: 'array', items: tagSchema },
  coverImage: {
    type: ['object', 'null'],
    properties: { url: { type: 'string' }, alt: { type: 'string' }, caption: { type: 'string' }, credit: { type: 'string' } },
  },
  canonicalUrl: nullable('string'),
  url: nullable('string'),
  publishedAt: nullable('string'),
  createdAt: time,
  updatedAt: time,
  version: { type: 'integer' },
};
const articleSchema = {
  type: 'object',
  properties: {
    ...summaryProperties,
    // Blocks keep Lede's key order for paragraphs (type, text); other blocks' keys follow.
    body: { type: 'array', items: { type: 'object', properties: { type: { type: 'string' }, text: { type: 'string' } }, additionalProperties: true } },
    sources: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, url: { type: 'string' } } } },
    related: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string' }, slug: { type: 'string' }, title: { type: 'string' }, publishedAt: nullable('string') } },
    },
  },
} as const;
const pageSchema = {
  type: 'object',
  properties: { data: { type: 'array', items: { type: 'object', properties: summaryProperties } }, nextCursor: nullable('string') },
};
const entrySchema = {
  type: 'object',
  properties: {
    id: plain,
    occurredAt: time,
    title: { type: 'string' },
    label: nullable('string'),
    articleId: { type: ['string', 'null'], format: 'unsafe' },
    article: {
      type: ['object', 'null'],
      properties: { id: { type: 'string' }, slug: { type: 'string' }, title: { type: 'string' }, url: nullable('string') },
    },
    url: nullable('string'),
    locale: plain,
    createdAt: time,
    updatedAt: time,
    version: { type: 'integer' },
  },
};
const timelineSchema = {
  type: 'object',
  properties: {
    data: { type: 'array', items: entrySchema },
    days: { type: 'array', items: { type: 'object', properties: { date: { type: 'string' }, entries: { type: 'array', items: entrySchema } } } },
    nextCursor: nullable('string'),
  },
};
const serializeArticle = fastJson(articleSchema);

// ---- Cursors, as Lede's (src/http/cursor.ts): base64url of JSON [kind, ...sort key].
const encodeCursor = (kind: string, values: string[]) => Buffer.from(JSON.stringify([kind, ...values]), 'utf8').toString('base64url');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function decodeCursor(kind: string, raw: string): [string, string] | null {
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown[];
    const [cursorKind, at, id] = parsed;
    if (cursorKind !== kind || typeof at !== 'string' || Number.isNaN(Date.parse(at)) || typeof id !== 'string' || !UUID.test(id)) return null;
    return [at, id];
  } catch {
    return null;
  }
}

/** A page size 1..100 (default 20): the statement reads one more row, which says another page exists. */
function pageLimit(raw: string | undefined): number | null {
  if (raw === undefined) return 20;
  const limit = Number(raw);
  return Number.isInteger(limit) && limit >= 1 && limit <= 100 ? limit : null;
}

interface SummaryRow {
  id: string;
  publishedAt: string;
  tags?: { id: string; slug: string; name: string }[];
  [column: string]: unknown;
}

function page<T extends { id: string }>(rows: T[], limit: number, kind: string, at: (row: T) => string) {
  const data = rows.length > limit ? rows.slice(0, limit) : rows;
  const last = data.at(-1);
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(kind, [at(last), last.id]) : null };
}

// ---- Articles: the list and one tag's list, each one statement (or two, BASELINE_LIST_TAGS=two).
const LATEST = (limit: number, tags: string) =>
  `select ${SUMMARY('a')}${tags} from articles a where ${LIVE('a')} order by a.published_at desc, a.id desc limit ${limit}`;
/** Lede's walk of the tag's links newest first (src/modules/articles/articles.list-query.ts). */
const TAGGED = (limit: number, tags: string) => `select ${SUMMARY('a')}${tags}
  from (select id, locale from tags where slug = $1) tag
  cross join lateral (select article_id, published_at as linked_at from article_tags
    where tag_id = tag.id and published_at <= now() order by published_at desc, article_id desc limit ${limit}) link
  join articles a on a.id = link.article_id and a.locale = tag.locale
  where ${LIVE('a')} order by link.linked_at desc, link.article_id desc limit ${limit}`;
/** `join`: the page, then its links joined, grouped back per article in order (both lists are newest first). */
const JOINED = (inner: string) => `select p.*, t.id as "tagId", t.slug as "tagSlug", t.name as "tagName"
  from (${inner}) p left join article_tags l on l.article_id = p.id left join tags t on t.id = l.tag_id
  order by p."publishedAt" desc, p.id desc, l.position`;

async function summaries(name: string, text: (limit: number, tags: string) => string, limit: number, values: unknown[]): Promise<SummaryRow[]> {
  if (LIST_TAGS === 'json') {
    return (await pool.query<SummaryRow>({ name: `${name}_json_${limit}`, text: text(limit, `, ${TAGS_JSON('a')}`), values, types: iso })).rows;
  }
  if (LIST_TAGS === 'join') {
    const { rows } = await pool.query({ name: `${name}_join_${limit}`, text: JOINED(text(limit, '')), values, types: iso });
    const out: SummaryRow[] = [];
    let current: SummaryRow | undefined;
    for (const row of rows as (SummaryRow & { tagId: string | null; tagSlug: string; tagName: string })[]) {
      if (current?.id !== row.id) out.push((current = { ...row, tags: [] }));
      if (row.tagId !== null) current.tags!.push({ id: row.tagId, slug: row.tagSlug, name: row.tagName });
    }
    return out;
  }
  const { rows } = await pool.query<SummaryRow>({ name: `${name}_two_${limit}`, text: text(limit, ''), values, types: iso });
  if (rows.length === 0) return rows;
  const links = await pool.query<{ articleId: string; id: string; slug: string; name: string }>({
    name: 'tags_of',
    text: `select l.article_id as "articleId", t.id, t.slug, t.name from article_tags l join tags t on t.id = l.tag_id
      where l.article_id = any($1::uuid[]) order by l.article_id, l.position`,
    values: [rows.map((row) => row.id)],
  });
  const byArticle = new Map<string, { id: string; slug: string; name: string }[]>();
  for (const link of links.rows) {
    let list = byArticle.get(link.articleId);
    if (!list) byArticle.set(link.articleId, (list = []));
    list.push({ id: link.id, slug: link.slug, name: link.name });
  }
  for (const row of rows) row.tags = byArticle.get(row.id) ?? [];
  return rows;
}

app.get<{ Querystring: { tag?: string; limit?: string } }>(
  '/v1/articles',
  { schema: { response: { 200: pageSchema } } },
  async (request, reply) => {
    const limit = pageLimit(request.query.limit);
    if (limit === null) return reply.code(400).send();
    const rows = request.query.tag
      ? await summaries('tagged', TAGGED, limit + 1, [request.query.tag])
      : await summaries('latest', LATEST, limit + 1, []);
    return page(rows, limit, 'articles', (row) => row.publishedAt);
  },
);

// ---- One article, with its tags and "Read also" links, in one statement; its ETag as Lede's.
const ARTICLE = `select ${SUMMARY('a')}, a.body, a.sources, ${TAGS_JSON('a')}, ${RELATED_JSON('a')}
  from articles a where a.locale = $1 and a.slug = $2 and ${LIVE('a')} limit 1`;
const DEFAULT_LOCALE = process.env.DEFAULT_LOCALE ?? 'en';

app.get<{ Params: { slug: string } }>('/v1/articles/:slug', async (request, reply) => {
  const { rows } = await pool.query({ name: 'article', text: ARTICLE, values: [DEFAULT_LOCALE, request.params.slug], types: iso });
  const row = rows[0] as { version: number } | undefined;
  if (!row) return reply.code(404).send();
  const body = serializeArticle(row);
  const etag = `"v${row.version}-${hash('sha1', body, 'base64url').slice(0, 16)}"`;
  if (request.headers['if-none-match'] === etag) return reply.code(304).header('etag', etag).send();
  return reply.header('etag', etag).type('application/json; charset=utf-8').send(body);
});

// ---- The timeline: one statement, the entry's article joined by primary key and shaped in SQL.
const ENTRIES = (cursor: boolean, limit: number) => `select e.id, e.occurred_at as "occurredAt", coalesce(e.title, a.title, '') as title,
    coalesce(e.label, a.label) as label, e.article_id as "articleId",
    case when a.id is null then null else json_build_object('id', a.id, 'slug', a.slug, 'title', a.title, 'url', ${pageOf('a')}) end as article,
    coalesce(e.url, ${pageOf('a')}) as url, e.locale, e.created_at as "createdAt", e.updated_at as "updatedAt", e.version
  from timeline_entries e left join articles a on a.id = e.article_id
  where e.live_at <= now() ${cursor ? 'and (e.occurred_at, e.id) < ($1::timestamptz, $2::uuid)' : ''}
  order by e.occurred_at desc, e.id desc limit ${limit}`;

interface EntryRow {
  id: string;
  occurredAt: string;
}

app.get<{ Querystring: { limit?: string; cursor?: string; groupBy?: string } }>(
  '/v1/timeline',
  { schema: { response: { 200: timelineSchema } } },
  async (request, reply) => {
    const limit = pageLimit(request.query.limit);
    const cursor = request.query.cursor === undefined ? undefined : decodeCursor('timeline', request.query.cursor);
    if (limit === null || cursor === null) return reply.code(400).send();
    const { rows } = await pool.query<EntryRow>({
      name: `timeline_${cursor ? 'after' : 'first'}_${limit + 1}`,
      text: ENTRIES(cursor !== undefined, limit + 1),
      values: cursor ?? [],
      types: iso,
    });
    const result = page(rows, limit, 'timeline', (row) => row.occurredAt);
    if (request.query.groupBy !== 'day') return result;
    const days: { date: string; entries: EntryRow[] }[] = [];
    for (const entry of result.data) {
      const date = localDate(new Date(entry.occurredAt), TIMEZONE);
      const day = days.at(-1);
      if (day?.date === date) day.entries.push(entry);
      else days.push({ date, entries: [entry] });
    }
    return { days, nextCursor: result.nextCursor };
  },
);

// ---- The RSS feed: the latest 50 live articles with bodies and tags in one statement, Lede's writer.
const FEED = `select a.id, a.title, a.lead, a.body, a.byline, a.cover_image, a.locale, a.published_at, a.updated_at, ${pageOf('a')} as url,
    ${TAGS_JSON('a')}
  from articles a where ${LIVE('a')} order by a.published_at desc, a.id desc limit ${FEED_SIZE}`;

app.get('/v1/feeds/articles.rss', async (_request, reply) => {
  const { rows } = await pool.query({ name: 'feed', text: FEED });
  const items = rows.map((row) => ({
    id: `urn:uuid:${row.id}`,
    title: row.title,
    link: row.url,
    published: row.published_at,
    updated: row.updated_at > row.published_at ? row.updated_at : row.published_at,
    summary: row.lead ?? undefined,
    contentHtml: renderBodyHtml(row.body as BlockWire[]),
    authors: row.byline ? [row.byline] : [],
    categories: (row.tags as { slug: string; name: string }[]).map((tag) => ({ label: tag.name, term: tag.slug })),
    image: row.cover_image ? { url: row.cover_image.url, type: imageType(row.cover_image.url), alt: row.cover_image.alt } : undefined,
  }));
  const locales = new Set(rows.map((row) => row.locale as string));
  const feed = {
    title: `${NEWSROOM} — Latest articles`,
    description: `The latest articles from ${NEWSROOM}`,
    link: `${SITE}/`,
    selfLinks: { rss: `${BASE}/v1/feeds/articles.rss`, atom: `${BASE}/v1/feeds/articles.atom`, json: `${BASE}/v1/feeds/articles.json` },
    language: locales.size === 1 ? [...locales][0] : undefined,
    updated: items.reduce((newest: Date, item) => (item.updated > newest ? item.updated : newest), new Date(0)),
    publisher: NEWSROOM,
    items,
  };
  return reply.type('application/rss+xml; charset=utf-8').send(renderFeed(feed, 'rss'));
});

/** The sitemap index: one aggregate over the live articles, 50,000 a page, as Lede's. */
const SITEMAP_INDEX = `select page, max(changed_at) as "lastModified" from (
    select greatest(updated_at, published_at) as changed_at,
      (row_number() over (order by published_at, id) - 1) / ${SITEMAP_PAGE_SIZE} + 1 as page
    from articles a where ${LIVE('a')}) numbered group by page order by page`;

app.get('/v1/sitemaps/index.xml', async (_request, reply) => {
  const { rows } = await pool.query<{ page: string; lastModified: Date }>({ name: 'sitemap_index', text: SITEMAP_INDEX });
  const pages: IndexEntry[] = rows.map((row) => ({ url: `${BASE}/v1/sitemaps/articles-${row.page}.xml`, lastModified: row.lastModified }));
  if (pages.length === 0) pages.push({ url: `${BASE}/v1/sitemaps/articles-1.xml` });
  return reply.type('application/xml; charset=utf-8').send(sitemapIndex(pages));
});

// ---- Writes: create a draft, publish it (with its timeline entry and links), one statement each.
const CREATED = `insert into articles (locale, slug, title) values ($1, $2, $3)
  returning ${SUMMARY('articles')}, body, sources, '[]'::json as tags, '[]'::json as related`;
const PUBLISHED = `with a as (
    update articles set status = 'published', published_at = now(), updated_at = now(), version = version + 1
    where id = $1 and version = $2 and deleted_at is null returning *
  ), links as (
    update article_tags l set published_at = a.published_at from a where l.article_id = a.id
  ), entry as (
    insert into timeline_entries (occurred_at, locale, article_id, live_at) select published_at, locale, id, published_at from a
  )
  select ${SUMMARY('a')}, a.body, a.sources, ${TAGS_JSON('a')}, '[]'::json as related from a`;

app.post<{ Body: { title: string } }>('/v1/articles', async (request, reply) => {
  const title = String(request.body.title);
  const slug = `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const { rows } = await pool.query({ name: 'create', text: CREATED, values: [DEFAULT_LOCALE, slug, title], types: iso });
  const row = rows[0] as { version: number };
  return reply.code(201).header('etag', `"v${row.version}"`).type('application/json; charset=utf-8').send(serializeArticle(row));
});

app.post<{ Params: { id: string } }>('/v1/articles/:id/publish', async (request, reply) => {
  const version = Number(/^"v(\d+)"$/.exec(String(request.headers['if-match'] ?? ''))?.[1]);
  if (!UUID.test(request.params.id) || !Number.isInteger(version)) return reply.code(428).send();
  const { rows } = await pool.query({ name: 'publish', text: PUBLISHED, values: [request.params.id, version], types: iso });
  const row = rows[0] as { version: number } | undefined;
  if (!row) return reply.code(412).send();
  return reply.header('etag', `"v${row.version}"`).type('application/json; charset=utf-8').send(serializeArticle(row));
});

app.get('/healthz', async () => ({ status: 'ok' }));

await app.listen({ port: Number(process.env.PORT ?? 3100), host: process.env.HOST ?? '127.0.0.1' });
