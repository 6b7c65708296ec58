import t from 'tap';
import { buildTestApp, json } from '../helper.js';

// Writes sent at the same moment on one article must leave what anonymous readers see consistent
// with the article as committed. On PostgreSQL the requests really interleave (a pool of
// connections); on PGlite they are serialised and the same assertions hold trivially.

const RACES = 20;
const { app, authAs } = await buildTestApp(t);
const editor = await authAs('editor');
const reader = await authAs('reader');

type Article = { id: string; slug: string; version: number; status: string; tags: { id: string }[] };

async function newArticle(title: string, extra: Record<string, unknown> = {}): Promise<Article> {
  const response = await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title, locale: 'pt', ...extra } });
  t.equal(response.statusCode, 201, `created ${title}`);
  return json<Article>(response);
}

async function publish(article: Article, payload: Record<string, unknown> = {}): Promise<Article> {
  const response = await app.inject({
    method: 'POST',
    url: `/v1/articles/${article.id}/publish`,
    headers: { ...editor, 'if-match': `"v${article.version}"` },
    payload,
  });
  t.equal(response.statusCode, 200, 'published');
  return json<Article>(response);
}

t.test('an entry made for an article while it is unpublished never shows it to the public', async (t) => {
  const races = await Promise.all(
    Array.from({ length: RACES }, async (_, i) => {
      const article = await publish(await newArticle(`Unpublished in a race ${i}`), { addToTimeline: false });
      const [entry, unpublished] = await Promise.all([
        app.inject({ method: 'POST', url: '/v1/timeline', headers: editor, payload: { articleId: article.id } }),
        app.inject({ method: 'POST', url: `/v1/articles/${article.id}/unpublish`, headers: { ...editor, 'if-match': `"v${article.version}"` } }),
      ]);
      t.equal(entry.statusCode, 201);
      t.equal(unpublished.statusCode, 200);
      return { article, entryId: json<{ id: string }>(entry).id };
    }),
  );
  const leaked = [];
  for (const { article, entryId } of races) {
    if ((await app.inject({ url: `/v1/timeline/${entryId}` })).statusCode !== 404) leaked.push(article.slug);
  }
  t.same(leaked, [], 'no entry of an unpublished article answers anonymous readers');
  const page = await app.inject({ url: '/v1/timeline?locale=pt&limit=100' });
  t.same(json<{ data: unknown[] }>(page).data, [], 'nor shows in the timeline');
  const feed = await app.inject({ url: '/v1/feeds/timeline.json' });
  t.notMatch(feed.body, /Unpublished in a race/, 'nor in its feed');
});

t.test('an entry made for an article being deleted never shows it', async (t) => {
  const races = await Promise.all(
    Array.from({ length: RACES / 2 }, async (_, i) => {
      const article = await publish(await newArticle(`Deleted in a race ${i}`), { addToTimeline: false });
      const [entry] = await Promise.all([
        app.inject({ method: 'POST', url: '/v1/timeline', headers: editor, payload: { articleId: article.id } }),
        app.inject({ method: 'DELETE', url: `/v1/articles/${article.id}`, headers: { ...editor, 'if-match': `"v${article.version}"` } }),
      ]);
      return entry.statusCode === 201 ? json<{ id: string }>(entry).id : null;
    }),
  );
  for (const entryId of races.filter((id): id is string => id !== null)) {
    t.equal((await app.inject({ url: `/v1/timeline/${entryId}` })).statusCode, 404, 'anonymous');
    t.equal((await app.inject({ url: `/v1/timeline/${entryId}`, headers: reader })).statusCode, 404, 'reader key');
  }
});

t.test("a deleted article's entry shows its title to no one, keys included", async (t) => {
  const article = await publish(await newArticle('Retracted story'));
  const entries = json<{ data: { id: string; article: { id: string } | null }[] }>(
    await app.inject({ url: '/v1/timeline?locale=pt&limit=100', headers: reader }),
  ).data.filter((entry) => entry.article?.id === article.id);
  t.equal(entries.length, 1, 'published with its entry');
  // A second entry made by hand, with its own title, belongs to the article all the same.
  const extra = await app.inject({ method: 'POST', url: '/v1/timeline', headers: editor, payload: { articleId: article.id, title: 'Follow-up line' } });
  t.equal(extra.statusCode, 201);
  const deleted = await app.inject({ method: 'DELETE', url: `/v1/articles/${article.id}`, headers: { ...editor, 'if-match': `"v${article.version}"` } });
  t.equal(deleted.statusCode, 204);
  for (const id of [entries[0]!.id, json<{ id: string }>(extra).id]) {
    for (const headers of [{}, reader, editor]) {
      const response = await app.inject({ url: `/v1/timeline/${id}`, headers });
      t.equal(response.statusCode, 404);
      t.notMatch(response.body, /Retracted story|Follow-up line/);
    }
  }
  for (const headers of [{}, reader]) {
    const page = await app.inject({ url: '/v1/timeline?locale=pt&limit=100', headers });
    t.notMatch(page.body, /Retracted story|Follow-up line/);
  }
});

t.test('a tag change racing a publish leaves lists, counts and the article in agreement', async (t) => {
  const tag = json<{ id: string; slug: string }>(
    await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Write skew', locale: 'pt' } }),
  );
  const articles = await Promise.all(
    Array.from({ length: RACES }, async (_, i) => {
      const article = await newArticle(`Tagged in a race ${i}`);
      // Naming both versions lets each write apply whichever commits first: the skew needs both.
      const ifMatch = `"v${article.version}", "v${article.version + 1}"`;
      await Promise.all([
        app.inject({
          method: 'PATCH',
          url: `/v1/articles/${article.id}`,
          headers: { ...editor, 'if-match': ifMatch },
          payload: { tagIds: [tag.id] },
        }),
        app.inject({ method: 'POST', url: `/v1/articles/${article.id}/publish`, headers: { ...editor, 'if-match': ifMatch }, payload: { addToTimeline: false } }),
      ]);
      return article.id;
    }),
  );
  const shownWithTag: string[] = [];
  for (const id of articles) {
    const response = await app.inject({ url: `/v1/articles/${id}` });
    if (response.statusCode === 200 && json<Article>(response).tags.some((each) => each.id === tag.id)) shownWithTag.push(id);
  }
  t.ok(shownWithTag.length > 0, 'some races ended published and tagged');
  const listed = json<{ data: { id: string }[] }>(await app.inject({ url: `/v1/articles?tag=${tag.slug}&locale=pt&limit=100` })).data;
  t.same(listed.map((each) => each.id).sort(), [...shownWithTag].sort(), 'the tag list holds exactly the live tagged articles');
  const counted = json<{ articleCount: number }>(await app.inject({ url: `/v1/tags/${tag.id}` }));
  t.equal(counted.articleCount, shownWithTag.length, "the tag's count agrees");
});
