import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildTestApp, json } from '../helper.js';

/*
 * Migration 0012 (docs/adr/0018-lz4-for-large-values.md): what grows with an article is stored
 * with lz4 where the server has it, and with pglz, as before, where it does not (the embedded
 * database). Checked on the values a create and a publication really store.
 */

/** About 8 KB of varied prose: long enough to be compressed, as a real article's body is. */
function longBody(): { type: 'paragraph'; text: string }[] {
  return Array.from({ length: 40 }, (_, index) => ({
    type: 'paragraph',
    text:
      `Paragraph ${index + 1}: the council met on day ${index * 7 + 3} and heard ${index * 13 + 5} speakers; ` +
      `the vote on item ${index * 31 + 11} was ${index % 3 === 0 ? 'postponed' : index % 3 === 1 ? 'carried' : 'lost'} ` +
      `after a debate that ran until ${(index % 12) + 1} o'clock, with amendments from ${index % 5} parties.`,
  }));
}

t.test('article bodies and search vectors, revisions, events and webhook bodies use lz4 where the server has it', async (t) => {
  const { app, database, authAs } = await buildTestApp(t);
  const db = database.db;
  const rows = async <R>(query: ReturnType<typeof sql>) => (await db.execute(query)) as unknown as { rows: R[] };
  const [{ has_lz4: hasLz4 }] = (
    await rows<{ has_lz4: boolean }>(
      sql`select coalesce(bool_or('lz4' = any (enumvals)), false) as has_lz4 from pg_settings where name = 'default_toast_compression'`,
    )
  ).rows as [{ has_lz4: boolean }];
  const expected = hasLz4 ? 'lz4' : 'pglz';
  t.comment(`this server ${hasLz4 ? 'has' : 'does not have'} lz4: expecting ${expected}`);

  const editor = await authAs('editor');
  const created = await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Council vote', body: longBody() } });
  t.equal(created.statusCode, 201, created.body);
  const { id } = json<{ id: string }>(created);
  const published = await app.inject({ method: 'POST', url: `/v1/articles/${id}/publish`, headers: { ...editor, 'if-match': '"v1"' } });
  t.equal(published.statusCode, 200, published.body);

  const article = (await rows<{ body: string | null }>(sql`select pg_column_compression(body) as body from articles where id = ${id}`)).rows;
  t.same(article, [{ body: expected }], "the article's body");
  const revisions = (await rows<{ c: string | null }>(
    sql`select pg_column_compression(snapshot) as c from article_revisions where article_id = ${id}`,
  )).rows;
  t.ok(revisions.length >= 2, 'a revision per change');
  t.ok(revisions.every((row) => row.c === expected), `every revision's snapshot: ${JSON.stringify(revisions)}`);
  const events = (await rows<{ type: string; c: string | null }>(
    sql`select type, pg_column_compression(data) as c from events where data->>'id' = ${id} order by id`,
  )).rows;
  t.same(events, [
    { type: 'article.created', c: expected },
    { type: 'article.published', c: expected },
  ], "the article's events");
  // Whether a value is compressed at all depends on its row's size (the search vector often fits
  // once the body is compressed); the columns' settings decide how the next large one is.
  const columns = (await rows<{ column: string; method: string }>(
    sql`select attrelid::regclass::text || '.' || attname as column, attcompression::text as method from pg_attribute
        where (attrelid, attname) in (('articles'::regclass, 'body'), ('articles'::regclass, 'search'),
          ('article_revisions'::regclass, 'snapshot'), ('events'::regclass, 'data'), ('webhook_deliveries'::regclass, 'body'))
        order by 1`,
  )).rows;
  const method = hasLz4 ? 'l' : '';
  t.same(
    columns,
    ['article_revisions.snapshot', 'articles.body', 'articles.search', 'events.data', 'webhook_deliveries.body'].map((column) => ({ column, method })),
    'the columns',
  );

  const read = await app.inject({ url: `/v1/articles/${id}` });
  t.same(json<{ body: unknown }>(read).body, longBody(), 'the body reads back as written');
});
