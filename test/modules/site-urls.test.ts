import t from 'tap';
import { buildTestApp, json } from '../helper.js';

type Article = { id: string; slug: string; version: number; url: string | null; canonicalUrl: string | null };
type Entry = { id: string; url: string | null; article: { url: string | null } | null };
type Tag = { id: string; url: string | null };

const SITE = {
  SITE_URL: 'https://news.example/',
  SITE_ARTICLE_PATH: '/{section}/{yyyy}/{mm}/{dd}/{slug}',
  SITE_TAG_PATH: '/topics/{slug}',
  TIMEZONE: 'Europe/Kyiv',
};

t.test('without SITE_URL every url is null, and a canonical URL still stands', async (t) => {
  const { app, authAs } = await buildTestApp(t);
  const editor = await authAs('editor');
  const tag = json<Tag>(await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Energy' } }));
  t.equal(tag.url, null);
  const plain = json<Article>(await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Plain' } }));
  t.equal(plain.url, null);
  t.equal(plain.canonicalUrl, null);
  const syndicated = json<Article>(
    await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Syndicated', canonicalUrl: 'https://partner.example/story' } }),
  );
  t.equal(syndicated.url, 'https://partner.example/story');
});

t.test('with SITE_URL, articles, tags and timeline entries carry their pages', async (t) => {
  const { app, authAs } = await buildTestApp(t, { env: SITE });
  const editor = await authAs('editor');
  const tag = json<Tag>(await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Energy' } }));
  t.equal(tag.url, 'https://news.example/topics/energy');
  t.equal(json<Tag>(await app.inject({ url: '/v1/tags/energy' })).url, tag.url, 'as readers get it');
  t.equal(json<{ data: Tag[] }>(await app.inject({ url: '/v1/tags' })).data[0]?.url, tag.url, 'in the list');

  const created = json<Article>(
    await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Grid under attack', section: 'news', tagIds: [tag.id] } }),
  );
  t.equal(created.url, null, 'a date in the path: no page before the first publication');
  // 23:30 UTC on 21 November is 01:30 on the 22nd in Kyiv.
  const publish = await app.inject({
    method: 'POST',
    url: `/v1/articles/${created.id}/publish`,
    headers: { ...editor, 'if-match': '"v1"' },
    payload: { publishAt: '2024-11-21T23:30:00.000Z' },
  });
  const page = 'https://news.example/news/2024/11/22/grid-under-attack';
  t.equal(json<Article>(publish).url, page, 'the date is the newsroom’s');
  t.equal(json<Article>(await app.inject({ url: '/v1/articles/grid-under-attack' })).url, page);
  t.equal(json<{ data: Article[] }>(await app.inject({ url: '/v1/articles' })).data[0]?.url, page, 'summaries too');

  const timeline = json<{ data: Entry[] }>(await app.inject({ url: '/v1/timeline' }));
  t.equal(timeline.data[0]?.url, page, "an article's entry leads to the article's page");
  t.equal(timeline.data[0]?.article?.url, page);
  const flash = json<Entry>(
    await app.inject({ method: 'POST', url: '/v1/timeline', headers: editor, payload: { title: 'Sirens in Kyiv', url: 'https://alerts.example/kyiv' } }),
  );
  t.equal(flash.url, 'https://alerts.example/kyiv', 'a flash line keeps its own link');
  t.equal(flash.article, null);

  // A canonical URL overrides the site path everywhere the article shows, and can be taken back.
  const patched = await app.inject({
    method: 'PATCH',
    url: `/v1/articles/${created.id}`,
    headers: { ...editor, 'if-match': '"v2"' },
    payload: { canonicalUrl: 'https://partner.example/grid' },
  });
  t.equal(patched.statusCode, 200);
  t.equal(json<Article>(patched).url, 'https://partner.example/grid');
  t.equal(json<{ data: Entry[] }>(await app.inject({ url: '/v1/timeline' })).data[1]?.url, 'https://partner.example/grid');
  const revision = json<{ article: Article }>(await app.inject({ url: `/v1/articles/${created.id}/revisions/3`, headers: editor }));
  t.equal(revision.article.url, 'https://partner.example/grid', 'a revision shows its own canonical URL');
  const reset = await app.inject({
    method: 'PATCH',
    url: `/v1/articles/${created.id}`,
    headers: { ...editor, 'if-match': '"v3"' },
    payload: { canonicalUrl: null },
  });
  t.equal(json<Article>(reset).url, page);

  const bad = await app.inject({
    method: 'PATCH',
    url: `/v1/articles/${created.id}`,
    headers: { ...editor, 'if-match': '"v4"' },
    payload: { canonicalUrl: 'javascript:alert(1)' },
  });
  t.equal(bad.statusCode, 400, 'only http(s) URLs');
});
