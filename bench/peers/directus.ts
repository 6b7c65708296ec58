/**
 * Directus (npm `directus`, Node 22) on Lede's rows. `bootstrap` creates Directus's own tables in
 * a fresh database; the content tables are then created by SQL with the columns and the junction
 * table a Directus m2m has, filled from Lede's database, indexed as Lede's are, and adopted as
 * collections by inserting the metadata Directus keeps (directus_collections, directus_fields for
 * the m2m alias, directus_relations), with read permission for the public policy. All of it before
 * `start`, since Directus reads its schema when it starts.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { RunningServer } from '../servers.js';
import { installedVersion, PEERS_DIR } from './install.js';
import { runPeerCommand, startPeer } from './process.js';
import type { PeerRead, PeerRow, ReadContext } from './reads.js';
import { freshPeerDatabase, fromLede, numberIn, runSql, SOURCE, sourceConnection } from './source.js';

const DIR = join(PEERS_DIR, 'directus');
const CLI = ['node_modules/@directus/api/dist/cli/run.js'];
export const DIRECTUS_DATABASE = 'lede_bench_directus';

/** The indexes Lede's reads use (migrations/0001, 0002, 0004), on Directus's tables. */
export const DIRECTUS_INDEXES = [
  'create unique index articles_slug_idx on articles (slug)',
  'create index articles_published_idx on articles (published_at, id)',
  'create index articles_tags_tag_idx on articles_tags (tags_id, articles_id)',
  'create index articles_tags_article_idx on articles_tags (articles_id, sort)',
  'create unique index tags_slug_idx on tags (slug)',
  'create index timeline_entries_occurred_idx on timeline_entries (occurred_at, id)',
];

function env(databaseUrl: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DB_CLIENT: 'pg',
    DB_CONNECTION_STRING: databaseUrl,
    KEY: 'lede-bench-directus',
    SECRET: randomBytes(32).toString('hex'),
    ADMIN_EMAIL: 'admin@example.com',
    ADMIN_PASSWORD: randomBytes(16).toString('hex'),
    // As Lede in the bench (LOG_LEVEL=warn): no log line per request.
    LOG_LEVEL: 'warn',
    // The Core license sends telemetry whatever TELEMETRY says: to a closed loopback port instead.
    TELEMETRY: 'false',
    TELEMETRY_URL: 'http://127.0.0.1:9/',
    COMPLIANCE_URL: 'http://127.0.0.1:9/',
  };
}

/** Its own cache on; the status header (HIT or MISS) lets the run check that the rows measured are hits. */
export const DIRECTUS_CACHE_ENV = { CACHE_ENABLED: 'true', CACHE_STORE: 'memory', CACHE_STATUS_HEADER: 'X-Cache' };

/** Creates and fills Directus's database; returns its URL. */
export async function setupDirectus(adminUrl: string, ledeDatabase: string): Promise<string> {
  const url = await freshPeerDatabase(adminUrl, DIRECTUS_DATABASE);
  await runPeerCommand({ name: 'directus-bootstrap', cwd: DIR, args: [...CLI, 'bootstrap'], env: env(url) });
  const source = sourceConnection(adminUrl, ledeDatabase);
  await runSql(url, [
    'create extension if not exists dblink',
    'create table tags (id integer primary key, slug varchar(255) not null, name varchar(255))',
    `create table articles (id integer primary key, slug varchar(255) not null, title varchar(255), lead text, body jsonb,
      section varchar(255), byline varchar(255), cover_image jsonb, published_at timestamptz)`,
    `create table articles_tags (id serial primary key, articles_id integer references articles (id) on delete cascade,
      tags_id integer references tags (id) on delete cascade, sort integer)`,
    'create table timeline_entries (id integer primary key, occurred_at timestamptz, title varchar(255), label varchar(255))',
    `insert into tags ${fromLede(source, SOURCE.tags, `${numberIn('slug', 'tag-')}, slug, name`)}`,
    `insert into articles ${fromLede(source, SOURCE.articles, `${numberIn('slug', 'article-')}, slug, title, lead, body, section, byline, cover_image, published_at`)}`,
    `insert into articles_tags (articles_id, tags_id, sort)
      ${fromLede(source, SOURCE.articleTags, `${numberIn('article_slug', 'article-')}, ${numberIn('tag_slug', 'tag-')}, position`)}
      where ${numberIn('article_slug', 'article-')} in (select id from articles)`,
    `insert into timeline_entries ${fromLede(source, SOURCE.timeline, `${numberIn('title', 'Timeline entry ')}, occurred_at, title, label`)}`,
    ...DIRECTUS_INDEXES,
    `insert into directus_collections (collection, hidden) values ('articles', false), ('tags', false), ('timeline_entries', false), ('articles_tags', true)`,
    `insert into directus_fields (collection, field, special, interface) values ('articles', 'tags', 'm2m', 'list-m2m')`,
    `insert into directus_relations (many_collection, many_field, one_collection, one_field, junction_field, sort_field) values
      ('articles_tags', 'articles_id', 'articles', 'tags', 'tags_id', 'sort'),
      ('articles_tags', 'tags_id', 'tags', null, 'articles_id', null)`,
    // Read on the four collections, all fields, no row filter, for the policy attached to the public (no role, no user) access.
    `insert into directus_permissions (collection, action, permissions, fields, policy)
      select collection, 'read', '{}', '*', (select policy from directus_access where role is null and "user" is null limit 1)
      from unnest(array['articles', 'tags', 'articles_tags', 'timeline_entries']) collection`,
  ]);
  return url;
}

export function startDirectus(databaseUrl: string, port: number, cached: boolean): Promise<RunningServer> {
  return startPeer({
    name: cached ? 'directus-cached' : 'directus',
    cwd: DIR,
    args: [...CLI, 'start'],
    env: { ...env(databaseUrl), PUBLIC_URL: `http://127.0.0.1:${port}`, ...(cached ? DIRECTUS_CACHE_ENV : {}) },
    port,
    healthPath: '/server/ping',
  });
}

export const directusStarted = (cached: boolean) =>
  `NODE_ENV=production LOG_LEVEL=warn ${cached ? 'CACHE_ENABLED=true CACHE_STORE=memory CACHE_STATUS_HEADER=X-Cache ' : ''}node ${CLI[0]} start (Node 22; after its bootstrap command)`;

export const directusVersion = () => installedVersion('directus', 'directus');

const ARTICLE = 'fields=id,slug,title,lead,section,byline,cover_image,published_at,tags.tags_id.id,tags.tags_id.slug,tags.tags_id.name';
const ENTRY = 'fields=id,occurred_at,title,label';

/** Directus's items API for each row; filters last, so a random slug can be appended. */
export function directusReads(context: ReadContext): Record<PeerRow, PeerRead> {
  const list = `/items/articles?limit=20&sort=-published_at,-id&${ARTICLE}`;
  const timeline = `/items/timeline_entries?limit=20&sort=-occurred_at,-id&${ENTRY}`;
  return {
    'article list': { path: list, how: 'items API, sorted as Lede, tags through the m2m junction' },
    'article by slug (random)': {
      path: `/items/articles?limit=1&${ARTICLE},body&filter[slug][_eq]=article-1`,
      pick: { prefix: `/items/articles?limit=1&${ARTICLE},body&filter[slug][_eq]=article-`, count: context.articles },
      how: 'items API filtered on the slug (an item is read by primary key, and the reader knows the slug)',
    },
    'articles by tag': { path: `${list}&filter[tags][tags_id][slug][_eq]=${context.tag}`, how: 'filter through the m2m junction on the tag slug' },
    'timeline first page': { path: timeline, how: 'items API, sorted as Lede' },
    'timeline 80% deep': {
      path: `${timeline}&filter[occurred_at][_lt]=${context.deepBefore}`,
      how: 'keyset: _lt filter on occurred_at (unique in the dataset, so the same page as Lede\'s (occurred_at, id) cursor)',
    },
    'timeline by day': { path: null, reason: 'no entries grouped by day: groupBy in Directus aggregates (counts, sums), it does not return the entries' },
    'RSS feed': { path: null, reason: 'no feed output without an extension' },
  };
}
