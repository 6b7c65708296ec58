import pg from 'pg';

export interface DatasetSize {
  articles: number;
  timeline: number;
  tags: number;
}

/**
 * Fills a migrated database with generated content, all in server-side SQL (generate_series), so
 * even 1,000,000 timeline entries load in seconds. Bodies are ~3 KB of paragraphs; every article has
 * a byline and a cover image, which feeds carry.
 */
export async function generateDataset(connectionString: string, size: DatasetSize): Promise<void> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query(`insert into tags (slug, name, locale) select 'tag-' || g, 'Tag ' || g, 'en' from generate_series(1, $1) g`, [size.tags]);
    await client.query(
      `insert into articles (locale, slug, status, title, lead, body, section, byline, cover_image, published_at, created_at, updated_at, search)
       select 'en', 'article-' || g, 'published',
         'Article ' || g || ' from ' || (array['Kyiv', 'Dnipro', 'Kharkiv', 'Odesa'])[1 + g % 4],
         'The lead of article ' || g,
         (select jsonb_agg(jsonb_build_object('type', 'paragraph', 'text', repeat('Reporting from the front line continues. ', 12)))
            from generate_series(1, 6)),
         'news',
         'Staff reporter ' || (g % 40),
         jsonb_build_object('url', 'https://cdn.example/images/article-' || g || '.jpg', 'alt', 'Photo for article ' || g),
         timestamptz '2020-01-01' + g * interval '7 minutes',
         timestamptz '2020-01-01' + g * interval '7 minutes',
         timestamptz '2020-01-01' + g * interval '7 minutes',
         to_tsvector('simple', 'Article ' || g)
       from generate_series(1, $1) g`,
      [size.articles],
    );
    await client.query(
      `insert into article_tags (article_id, tag_id, position, published_at)
       select a.id, t.id, k, a.published_at
       from articles a
       cross join generate_series(0, 2) k
       join tags t on t.slug = 'tag-' || (1 + ((substr(a.slug, 9)::int * (k * 7 + 1) + k) % $1))
       on conflict do nothing`,
      [size.tags],
    );
    await client.query(
      `insert into timeline_entries (occurred_at, locale, title, label, live_at)
       select timestamptz '2020-01-01' + g * interval '3 minutes', 'en', 'Timeline entry ' || g,
         case when g % 10 = 0 then 'exclusive' end, timestamptz '2020-01-01'
       from generate_series(1, $1) g`,
      [size.timeline],
    );
    // Vacuumed as well as analysed: a table just loaded is otherwise vacuumed by autovacuum (and its
    // rows' hint bits set by the first reads) while the first rows are measured.
    await client.query('vacuum analyze');
  } finally {
    await client.end();
  }
}
