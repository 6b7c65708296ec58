/**
 * What the peers share: a fresh database of their own next to Lede's, filled from Lede's generated
 * rows by SQL through dblink (so every peer serves exactly Lede's rows), and the same indexes.
 * Integer ids are taken from the generated names (article-N, tag-N, 'Timeline entry N'), so the
 * peers' ids are stable from run to run; Lede's are uuids.
 */
import pg from 'pg';

export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function freshPeerDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return databaseUrl(adminUrl, name);
}

/** dblink's connection string for Lede's database (dblink takes libpq's key=value form or a URL). */
export function sourceConnection(adminUrl: string, ledeDatabase: string): string {
  return databaseUrl(adminUrl, ledeDatabase);
}

/**
 * Lede's rows as each peer reads them: published articles (all of the generated ones are), their
 * tags in order, tags, timeline entries. Each is a dblink query and its column list.
 */
export const SOURCE = {
  tags: {
    query: 'select slug, name from tags',
    columns: 'slug text, name text',
  },
  articles: {
    query: `select slug, title, lead, body, section, byline, cover_image, published_at, created_at, updated_at from articles
      where deleted_at is null and status = 'published' and published_at <= now()`,
    columns: 'slug text, title text, lead text, body jsonb, section text, byline text, cover_image jsonb, published_at timestamptz, created_at timestamptz, updated_at timestamptz',
  },
  articleTags: {
    query: 'select a.slug, t.slug, l.position from article_tags l join articles a on a.id = l.article_id join tags t on t.id = l.tag_id',
    columns: 'article_slug text, tag_slug text, position int',
  },
  timeline: {
    query: 'select title, occurred_at, label from timeline_entries where live_at <= now()',
    columns: 'title text, occurred_at timestamptz, label text',
  },
} as const;

/** `select ... from dblink(source, query) as s(columns)`, the rows to insert into a peer's table. */
export function fromLede(source: string, rows: { query: string; columns: string }, select: string): string {
  return `select ${select} from dblink(${pg.escapeLiteral(source)}, ${pg.escapeLiteral(rows.query)}) as s(${rows.columns})`;
}

/** The number in a generated name: article-12 → 12. */
export const numberIn = (column: string, prefix: string) => `substr(${column}, ${prefix.length + 1})::int`;

/** Runs statements in a peer's database, then vacuum analyze (as Lede's dataset is). */
export async function runSql(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
    await client.query('vacuum analyze');
  } finally {
    await client.end();
  }
}
