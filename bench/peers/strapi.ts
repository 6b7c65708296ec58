/**
 * Strapi 5 (bench/peers/strapi-app: three content types as schema.json with Strapi's default
 * controllers, routes and services; draft and publish off, so one row per document) on Lede's rows.
 * Strapi creates its tables at its first start; the rows are then loaded by SQL from Lede's
 * database while it runs (it caches no query results), with a document_id per row, published_at
 * set (Strapi serves only published rows; an article's publication date is Strapi's own
 * publishedAt), and the tags in Strapi's link table; then Lede's indexes.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningServer } from '../servers.js';
import { installedVersion, PEERS_DIR } from './install.js';
import { startPeer } from './process.js';
import type { PeerRead, PeerRow, ReadContext } from './reads.js';
import { freshPeerDatabase, fromLede, numberIn, runSql, SOURCE, sourceConnection } from './source.js';

const DIR = join(PEERS_DIR, 'strapi-app');
const CLI = ['node_modules/@strapi/strapi/bin/strapi.js'];
export const STRAPI_DATABASE = 'lede_bench_strapi';

/** The indexes Lede's reads use (migrations/0001, 0002, 0004), on Strapi's tables (the link table has Strapi's own too). */
export const STRAPI_INDEXES = [
  'create unique index articles_slug_idx on articles (slug)',
  'create index articles_published_idx on articles (published_at, id)',
  'create index articles_tags_lnk_tag_article_idx on articles_tags_lnk (tag_id, article_id)',
  'create unique index tags_slug_idx on tags (slug)',
  'create index timeline_entries_occurred_idx on timeline_entries (occurred_at, id)',
];

/** Strapi's timestamps are `timestamp without time zone` holding UTC. */
const utc = (column: string) => `${column} at time zone 'UTC'`;
/** A 24-character document id, as Strapi's, derived from the row's name. */
const documentId = (column: string) => `substr(md5(${column}), 1, 24)`;

export async function startStrapi(adminUrl: string, ledeDatabase: string, port: number): Promise<RunningServer> {
  const url = await freshPeerDatabase(adminUrl, STRAPI_DATABASE);
  // The local upload provider refuses to start without its folder (git-ignored, so made here).
  mkdirSync(join(DIR, 'public', 'uploads'), { recursive: true });
  const secret = (name: string) => `lede-bench-${name}-${Date.now()}`;
  const server = await startPeer({
    name: 'strapi',
    cwd: DIR,
    args: [...CLI, 'start'],
    env: {
      NODE_ENV: 'production',
      STRAPI_TELEMETRY_DISABLED: 'true',
      // Nothing leaves the machine: no check for a newer Strapi either.
      STRAPI_DISABLE_UPDATE_NOTIFICATION: 'true',
      // As Lede in the bench (LOG_LEVEL=warn): no log line per request.
      LOG_LEVEL: 'warn',
      DATABASE_URL: url,
      APP_KEYS: `${secret('a')},${secret('b')}`,
      ADMIN_JWT_SECRET: secret('admin'),
      API_TOKEN_SALT: secret('token'),
      TRANSFER_TOKEN_SALT: secret('transfer'),
      ENCRYPTION_KEY: secret('encryption'),
      JWT_SECRET: secret('jwt'),
    },
    port,
    healthPath: '/_health',
  });
  const source = sourceConnection(adminUrl, ledeDatabase);
  const now = utc('now()');
  try {
    await runSql(url, [
      'create extension if not exists dblink',
      `insert into tags (id, document_id, slug, name, created_at, updated_at, published_at)
        ${fromLede(source, SOURCE.tags, `${numberIn('slug', 'tag-')}, ${documentId('slug')}, slug, name, ${now}, ${now}, ${now}`)}`,
      `insert into articles (id, document_id, slug, title, lead, body, section, byline, cover_image, created_at, updated_at, published_at)
        ${fromLede(
          source,
          SOURCE.articles,
          `${numberIn('slug', 'article-')}, ${documentId('slug')}, slug, title, lead, body, section, byline, cover_image,
          ${utc('created_at')}, ${utc('updated_at')}, ${utc('published_at')}`,
        )}`,
      `insert into articles_tags_lnk (article_id, tag_id, tag_ord, article_ord)
        ${fromLede(source, SOURCE.articleTags, `${numberIn('article_slug', 'article-')}, ${numberIn('tag_slug', 'tag-')}, position + 1, 1`)}
        where ${numberIn('article_slug', 'article-')} in (select id from articles)`,
      `insert into timeline_entries (id, document_id, occurred_at, title, label, created_at, updated_at, published_at)
        ${fromLede(source, SOURCE.timeline, `${numberIn('title', 'Timeline entry ')}, ${documentId('title')}, ${utc('occurred_at')}, title, label, ${now}, ${now}, ${now}`)}`,
      ...['tags', 'articles', 'articles_tags_lnk', 'timeline_entries'].map(
        (table) => `select setval('${table}_id_seq', (select coalesce(max(id), 1) from ${table}))`,
      ),
      ...STRAPI_INDEXES,
    ]);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

export const strapiStarted = `NODE_ENV=production LOG_LEVEL=warn STRAPI_TELEMETRY_DISABLED=true STRAPI_DISABLE_UPDATE_NOTIFICATION=true node ${CLI[0]} start (Node 22; admin panel not built nor served)`;
export const strapiVersion = () => installedVersion('strapi-app', '@strapi/strapi');

const ARTICLE = 'fields[0]=slug&fields[1]=title&fields[2]=lead&fields[3]=section&fields[4]=byline&fields[5]=coverImage&fields[6]=publishedAt';
const TAGS = 'populate[tags][fields][0]=slug&populate[tags][fields][1]=name';
const ENTRY = 'fields[0]=occurredAt&fields[1]=title&fields[2]=label';
/** Twenty a page and no total count (Strapi counts by default; Lede does not count). */
const PAGE = 'pagination[pageSize]=20&pagination[withCount]=false';

/** Strapi's REST API for each row; filters last, so a random slug can be appended. */
export function strapiReads(context: ReadContext): Record<PeerRow, PeerRead> {
  const list = `/api/articles?sort[0]=publishedAt:desc&sort[1]=id:desc&${PAGE}&${ARTICLE}&${TAGS}`;
  const timeline = `/api/timeline-entries?sort[0]=occurredAt:desc&sort[1]=id:desc&${PAGE}&${ENTRY}`;
  const slug = `/api/articles?pagination[pageSize]=1&pagination[withCount]=false&${ARTICLE}&fields[7]=body&${TAGS}&filters[slug][$eq]=article-`;
  return {
    'article list': { path: list, how: 'REST find, sorted as Lede, tags populated' },
    'article by slug (random)': {
      path: `${slug}1`,
      pick: { prefix: slug, count: context.articles },
      how: 'REST find filtered on the slug (findOne takes the document id, and the reader knows the slug)',
    },
    'articles by tag': { path: `${list}&filters[tags][slug][$eq]=${context.tag}`, how: 'filter on the related tag\'s slug' },
    'timeline first page': { path: timeline, how: 'REST find, sorted as Lede' },
    'timeline 80% deep': {
      path: `${timeline}&filters[occurredAt][$lt]=${context.deepBefore}`,
      how: 'keyset: $lt filter on occurredAt (unique in the dataset, so the same page as Lede\'s (occurred_at, id) cursor)',
    },
    'timeline by day': { path: null, reason: 'no entries grouped by day in Strapi\'s REST API' },
    'RSS feed': { path: null, reason: 'no feed output without a plugin' },
  };
}
