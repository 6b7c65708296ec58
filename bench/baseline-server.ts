/**
 * The benchmark's yardstick: a minimal Fastify + pg server answering the same requests as Lede with
 * hand-written SQL and no validation, auth, caching headers or revisions. Lede cannot beat it
 * without a cache; the benchmark reports Lede's speed as a fraction of this one.
 */
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';
import { renderFeed } from '../src/modules/feeds/feed-formats.js';
import { imageType } from '../src/modules/feeds/feed-model.js';
import { XmlWriter } from '../src/modules/feeds/xml-writer.js';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const app = Fastify({ logger: false });
/** Where feed items link, as Lede's do with SITE_URL set. */
const SITE = 'https://news.example';

const SUMMARY = `id, slug, locale, status, title, lead, label, section, byline, cover_image, published_at, created_at, updated_at, version`;
const LIVE = `deleted_at is null and status in ('published', 'scheduled') and published_at <= now()`;

async function withTags<T extends { id: string }>(rows: T[]) {
  if (rows.length === 0) return rows;
  const tags = await pool.query(
    `select at.article_id, t.id, t.slug, t.name from article_tags at join tags t on t.id = at.tag_id
     where at.article_id = any($1) order by at.article_id, at.position`,
    [rows.map((row) => row.id)],
  );
  const byArticle = new Map<string, unknown[]>();
  for (const tag of tags.rows) {
    const list = byArticle.get(tag.article_id) ?? [];
    list.push({ id: tag.id, slug: tag.slug, name: tag.name });
    byArticle.set(tag.article_id, list);
  }
  return rows.map((row) => ({ ...row, tags: byArticle.get(row.id) ?? [] }));
}

app.get<{ Querystring: { tag?: string; limit?: string } }>('/articles', async (request) => {
  const limit = Math.min(Number(request.query.limit ?? 20), 100);
  const rows = request.query.tag
    ? await pool.query(
        `select ${SUMMARY.split(', ').map((c) => `a.${c}`).join(', ')} from article_tags at
         join tags t on t.id = at.tag_id join articles a on a.id = at.article_id
         where t.slug = $1 and at.published_at <= now() order by at.published_at desc, at.article_id desc limit ${limit}`,
        [request.query.tag],
      )
    : await pool.query(`select ${SUMMARY} from articles where ${LIVE} order by published_at desc, id desc limit ${limit}`);
  return { data: await withTags(rows.rows), nextCursor: null };
});

app.get<{ Params: { slug: string } }>('/articles/:slug', async (request, reply) => {
  const { rows } = await pool.query(`select * from articles where locale = 'en' and slug = $1 and ${LIVE}`, [request.params.slug]);
  if (rows.length === 0) return reply.code(404).send({ error: 'not found' });
  const [article] = await withTags(rows);
  const body = JSON.stringify(article);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.header('etag', etag).type('application/json').send(body);
});

app.get<{ Querystring: { limit?: string; beforeTime?: string; beforeId?: string } }>('/timeline', async (request) => {
  const limit = Math.min(Number(request.query.limit ?? 20), 100);
  const cursor = request.query.beforeTime && request.query.beforeId;
  const { rows } = await pool.query(
    `select e.*, a.slug as article_slug, a.title as article_title from timeline_entries e
     left join articles a on a.id = e.article_id
     where e.live_at <= now() ${cursor ? 'and (e.occurred_at, e.id) < ($1::timestamptz, $2::uuid)' : ''}
     order by e.occurred_at desc, e.id desc limit ${limit}`,
    cursor ? [request.query.beforeTime, request.query.beforeId] : [],
  );
  return { data: rows, nextCursor: null };
});

/** The same feed as Lede's RSS, from one statement (tags aggregated in SQL) and the same writer. */
app.get('/feed.rss', async (_request, reply) => {
  const { rows } = await pool.query(
    `select a.id, a.slug, a.title, a.lead, a.body, a.byline, a.cover_image, a.published_at, a.updated_at,
       coalesce((select json_agg(json_build_object('slug', t.slug, 'name', t.name) order by at.position)
         from article_tags at join tags t on t.id = at.tag_id where at.article_id = a.id), '[]') as tags
     from articles a where ${LIVE} order by published_at desc, id desc limit 50`,
  );
  const items = rows.map((row) => ({
    id: `urn:uuid:${row.id}`,
    title: row.title,
    link: `${SITE}/articles/${row.slug}`,
    published: row.published_at,
    updated: row.updated_at > row.published_at ? row.updated_at : row.published_at,
    summary: row.lead ?? undefined,
    contentHtml: (row.body as { text: string }[]).map((block) => `<p>${block.text}</p>`).join('\n'),
    authors: row.byline ? [row.byline] : [],
    categories: (row.tags as { slug: string; name: string }[]).map((tag) => ({ label: tag.name, term: tag.slug })),
    image: row.cover_image ? { url: row.cover_image.url, type: imageType(row.cover_image.url), alt: row.cover_image.alt } : undefined,
  }));
  // The same XML writer as Lede's feeds, so the yardstick does the same rendering work.
  const selfLinks = { rss: 'http://localhost/feed.rss', atom: 'http://localhost/feed.atom', json: 'http://localhost/feed.json' };
  const feed = {
    title: 'Baseline — Latest articles',
    description: 'The latest articles',
    link: `${SITE}/`,
    selfLinks,
    language: 'en',
    updated: items.reduce((newest: Date, item) => (item.updated > newest ? item.updated : newest), new Date(0)),
    publisher: 'Baseline',
    items,
  };
  return reply.type('application/rss+xml').send(renderFeed(feed, 'rss'));
});

/** The sitemap index: one aggregate over the live articles, 50,000 a page, as Lede's. */
app.get('/sitemap-index.xml', async (_request, reply) => {
  const { rows } = await pool.query(
    `select page, max(greatest(updated_at, published_at)) as lastmod from (
       select updated_at, published_at, (row_number() over (order by published_at, id) - 1) / 50000 + 1 as page
       from articles where ${LIVE}) pages group by page order by page`,
  );
  const xml = new XmlWriter().start('sitemapindex', { xmlns: 'http://www.sitemaps.org/schemas/sitemap/0.9' });
  for (const row of rows) {
    xml.start('sitemap').text('loc', `http://localhost/sitemap-${row.page}.xml`).text('lastmod', (row.lastmod as Date).toISOString()).end();
  }
  return reply.type('application/xml').send(xml.end().toString());
});

app.post<{ Body: { title: string } }>('/articles', async (request, reply) => {
  const slug = `${request.body.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const { rows } = await pool.query(`insert into articles (locale, slug, title) values ('en', $1, $2) returning id, version`, [slug, request.body.title]);
  return reply.code(201).send(rows[0]);
});

app.post<{ Params: { id: string } }>('/articles/:id/publish', async (request) => {
  const { rows } = await pool.query(
    `update articles set status = 'published', published_at = now(), version = version + 1 where id = $1 returning id, version`,
    [request.params.id],
  );
  await pool.query(`insert into timeline_entries (occurred_at, locale, article_id, live_at) values (now(), 'en', $1, now())`, [request.params.id]);
  return rows[0];
});

await app.listen({ port: Number(process.env.PORT ?? 3100), host: '127.0.0.1' });
