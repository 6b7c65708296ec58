import t from 'tap';
import { buildTestApp, json } from '../helper.js';

type Article = {
  id: string;
  slug: string;
  status: string;
  title: string;
  version: number;
  body: { type: string; text?: string; items?: string[]; article?: { slug: string } | null }[];
  tags: { slug: string }[];
  related: { id: string }[];
  bodyHtml?: string;
  publishedAt: string | null;
};

const { app, authAs } = await buildTestApp(t);
const editor = await authAs('editor', 'Newsdesk');
const reader = await authAs('reader');

async function create(payload: object) {
  const response = await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload });
  return { response, article: json<Article>(response), etag: String(response.headers.etag) };
}

async function act(id: string, action: string, etag: string, payload?: object) {
  const response = await app.inject({
    method: 'POST',
    url: `/v1/articles/${id}/${action}`,
    headers: { ...editor, 'if-match': etag },
    ...(payload ? { payload } : {}),
  });
  return { response, article: json<Article>(response), etag: String(response.headers.etag) };
}

t.test('create makes a draft with a transliterated slug, hidden from anonymous readers', async (t) => {
  const { response, article } = await create({ title: 'Блінкен і Лавров', locale: 'uk', body: [{ type: 'paragraph', text: 'Текст' }] });
  t.equal(response.statusCode, 201);
  t.equal(article.slug, 'blinken-i-lavrov');
  t.equal(article.status, 'draft');
  t.equal(article.version, 1);
  t.equal((await app.inject({ url: `/v1/articles/${article.id}` })).statusCode, 404);
  t.equal((await app.inject({ url: '/v1/articles/blinken-i-lavrov?locale=uk' })).statusCode, 404);
  const preview = await app.inject({ url: `/v1/articles/${article.id}`, headers: reader });
  t.equal(preview.statusCode, 200, 'a reader key previews drafts');
  t.match(preview.headers['cache-control'], /^private/);
  const duplicate = await create({ title: 'Блінкен і Лавров', locale: 'uk' });
  t.equal(duplicate.response.statusCode, 409);
  t.equal(json(duplicate.response).code, 'ARTICLE_SLUG_TAKEN');
});

t.test('inline HTML is sanitised on write; bodyHtml is rendered on request', async (t) => {
  const { article } = await create({
    title: 'Sanitiser check',
    body: [
      { type: 'paragraph', text: 'Hi <script>alert(1)</script><a href="javascript:alert(1)">bad</a> <a href="https://x.test" onclick="e()">ok</a> <img src=x onerror=alert(1)><b>b</b>' },
      { type: 'quote', text: '<em>Said</em>', attribution: 'Antony <Blinken>' },
      { type: 'list', style: 'bullet', items: ['one', '<strong>two</strong>'] },
    ],
  });
  t.equal(article.body[0]?.text, 'Hi bad <a href="https://x.test/">ok</a> <strong>b</strong>');
  const { etag } = await act(article.id, 'publish', `"v${article.version}"`);
  t.ok(etag);
  const html = json<Article>(await app.inject({ url: `/v1/articles/${article.id}?format=html` }));
  t.match(html.bodyHtml, '<blockquote><p><em>Said</em></p><footer>Antony &lt;Blinken&gt;</footer></blockquote>');
  t.match(html.bodyHtml, '<ul><li>one</li><li><strong>two</strong></li></ul>');
  t.notMatch(html.bodyHtml, /script|onclick|onerror|javascript:/);

  for (const [payload, path] of [
    [{ title: 'x'.repeat(301) }, 'body.title'],
    [{ title: 'Bad block', body: [{ type: 'video', url: 'https://x.test' }] }, 'body.body.0.type'],
    [{ title: 'Bad image', body: [{ type: 'image', url: 'javascript:alert(1)', alt: '' }] }, 'body.body.0.url'],
    [{ title: 'Only script', body: [{ type: 'paragraph', text: '<script>x</script>' }] }, 'body.body.0.text'],
    [{ title: 'Bad heading', body: [{ type: 'heading', level: 1, text: 'h' }] }, 'body.body.0.level'],
    [{ title: 'NUL inside', body: [{ type: 'list', style: 'bullet', items: ['ok', 'bad\u0000'] }] }, 'body.body.0.items.1'],
    [{ title: 'Evil link', body: [{ type: 'embed', url: 'data:text/html,<script>x</script>' }] }, 'body.body.0.url'],
  ] as const) {
    const response = await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload });
    t.equal(response.statusCode, 400, path);
    t.ok(json<{ errors: { path: string }[] }>(response).errors.some((e) => e.path.startsWith(path)), `error names ${path}`);
  }
});

t.test('tags and related: order kept, unknown references rejected with nothing written', async (t) => {
  const tagA = json(await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'G20' } }));
  const tagB = json(await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Diplomacy' } }));
  const target = await create({ title: 'Related target' });
  const { article } = await create({ title: 'Tagged', tagSlugs: ['diplomacy', 'g20'], relatedIds: [target.article.id] });
  t.same(article.tags.map((tag) => tag.slug), ['diplomacy', 'g20']);
  t.same(article.related.map((r) => r.id), [target.article.id]);

  const unknown = await app.inject({
    method: 'POST',
    url: '/v1/articles',
    headers: editor,
    payload: { title: 'Unknown refs', tagSlugs: ['g20', 'nope'], relatedIds: ['00000000-0000-4000-8000-000000000000'] },
  });
  t.equal(unknown.statusCode, 422);
  t.same(
    json<{ errors: { path: string }[] }>(unknown).errors.map((e) => e.path),
    ['body.tagSlugs.1', 'body.relatedIds.0'],
  );
  const listed = json<{ data: unknown[] }>(await app.inject({ url: '/v1/articles?q=Unknown', headers: editor }));
  t.same(listed.data, [], 'nothing was written');

  const unknownTagId = await app.inject({ method: 'PATCH', url: `/v1/articles/${article.id}`, headers: { ...editor, 'if-match': `"v1"` }, payload: { tagIds: [tagA.id, '00000000-0000-4000-8000-000000000000'] } });
  t.equal(unknownTagId.statusCode, 422);
  t.equal(json<{ errors: { path: string }[] }>(unknownTagId).errors[0]?.path, 'body.tagIds.1');

  // The anonymous tag count follows publication.
  const countOf = async (id: unknown) => json<{ articleCount: number }>(await app.inject({ url: `/v1/tags/${id}` })).articleCount;
  t.equal(await countOf(tagB.id), 0);
  await act(article.id, 'publish', `"v1"`);
  t.equal(await countOf(tagB.id), 1);
  t.equal(json<Article>(await app.inject({ url: `/v1/articles/${article.id}` })).related.length, 0, 'a draft is not shown in Read also');

  const deleted = await app.inject({ method: 'DELETE', url: `/v1/tags/${tagA.id}?force=true`, headers: { ...editor, 'if-match': `"v${tagA.version}"` } });
  t.equal(deleted.statusCode, 204);
  const after = json<Article>(await app.inject({ url: `/v1/articles/${article.id}` }));
  t.same(after.tags.map((tag) => tag.slug), ['diplomacy'], 'deleting a tag detaches it');
});

t.test('publishing: now, scheduled in the future, unpublish, archive', async (t) => {
  const { article } = await create({ title: 'Scheduling' });
  const future = new Date(Date.now() + 60 * 60 * 1000).toISOString();
  const scheduled = await act(article.id, 'publish', '"v1"', { publishAt: future });
  t.equal(scheduled.response.statusCode, 200);
  t.equal(scheduled.article.status, 'scheduled');
  t.equal(scheduled.article.publishedAt, future);
  t.equal((await app.inject({ url: `/v1/articles/${article.id}` })).statusCode, 404, 'not before its time');
  const soon = new Date(Date.now() + 1500).toISOString();
  // A new time: unpublish, then publish again (a scheduled article is not published again).
  const withdrawn = await act(article.id, 'unpublish', scheduled.etag);
  const rescheduled = await act(article.id, 'publish', withdrawn.etag, { publishAt: soon });
  t.equal(rescheduled.article.status, 'scheduled');
  await new Promise((resolve) => setTimeout(resolve, 1700));
  const live = await app.inject({ url: `/v1/articles/${article.id}` });
  t.equal(live.statusCode, 200, 'live when the time comes, with no job');
  t.equal(json<Article>(live).status, 'published');

  const unpublished = await act(article.id, 'unpublish', rescheduled.etag);
  t.equal(unpublished.article.status, 'draft');
  t.equal((await app.inject({ url: `/v1/articles/${article.id}` })).statusCode, 404);
  const republished = await act(article.id, 'publish', unpublished.etag);
  t.equal(republished.article.status, 'published');
  const archived = await act(article.id, 'archive', republished.etag);
  t.equal(archived.article.status, 'archived');
  t.equal((await app.inject({ url: `/v1/articles/${article.id}` })).statusCode, 404);
  const badTime = await act(article.id, 'publish', archived.etag, { publishAt: 'tomorrow' });
  t.equal(badTime.response.statusCode, 400);
  const noIfMatch = await app.inject({ method: 'POST', url: `/v1/articles/${article.id}/publish`, headers: editor });
  t.equal(noIfMatch.statusCode, 428);
});

t.test('a renamed slug answers 301; revisions keep every version with its author', async (t) => {
  const { article } = await create({ title: 'Old headline' });
  const renamed = await app.inject({
    method: 'PATCH',
    url: `/v1/articles/${article.id}`,
    headers: { ...editor, 'if-match': '"v1"' },
    payload: { title: 'New headline', slug: 'new-headline' },
  });
  t.equal(renamed.statusCode, 200);
  await act(article.id, 'publish', String(renamed.headers.etag));
  const moved = await app.inject({ url: '/v1/articles/old-headline' });
  t.equal(moved.statusCode, 301);
  t.equal(moved.headers.location, '/v1/articles/new-headline?locale=en');

  const revisions = json<{ data: { version: number; savedBy: { name: string } }[] }>(
    await app.inject({ url: `/v1/articles/${article.id}/revisions`, headers: editor }),
  );
  t.same(revisions.data.map((r) => r.version), [3, 2, 1]);
  t.equal(revisions.data[0]?.savedBy.name, 'Newsdesk');
  const first = json<{ article: Article }>(await app.inject({ url: `/v1/articles/${article.id}/revisions/1`, headers: editor }));
  t.equal(first.article.title, 'Old headline');
  t.equal((await app.inject({ url: `/v1/articles/${article.id}/revisions/9`, headers: editor })).statusCode, 404);
  t.equal((await app.inject({ url: `/v1/articles/${article.id}/revisions`, headers: reader })).statusCode, 403);
  t.equal((await app.inject({ url: `/v1/articles/${article.id}/revisions` })).statusCode, 401);

  const deleted = await app.inject({ method: 'DELETE', url: `/v1/articles/${article.id}`, headers: { ...editor, 'if-match': '"v3"' } });
  t.equal(deleted.statusCode, 204);
  t.equal((await app.inject({ url: '/v1/articles/new-headline' })).statusCode, 404);
  t.equal((await app.inject({ url: '/v1/articles/old-headline' })).statusCode, 404, 'no redirect to a deleted article');
  t.equal((await app.inject({ url: `/v1/articles/${article.id}`, headers: editor })).statusCode, 404);
  const kept = json<{ data: unknown[] }>(await app.inject({ url: `/v1/articles/${article.id}/revisions`, headers: editor }));
  t.equal(kept.data.length, 3, 'revisions outlive the article');
});

t.test('related blocks resolve on read, and only to live articles for anonymous readers', async (t) => {
  const draft = await create({ title: 'Draft target' });
  const live = await create({ title: 'Live target' });
  await act(live.article.id, 'publish', '"v1"');
  const { article } = await create({
    title: 'With related blocks',
    body: [
      { type: 'related', articleId: draft.article.id },
      { type: 'related', articleId: live.article.id },
    ],
  });
  await act(article.id, 'publish', '"v1"');
  const anonymous = json<Article>(await app.inject({ url: `/v1/articles/${article.id}` }));
  t.equal(anonymous.body.length, 1);
  t.equal(anonymous.body[0]?.article?.slug, 'live-target');
  const editorView = json<Article>(await app.inject({ url: `/v1/articles/${article.id}`, headers: editor }));
  t.equal(editorView.body.length, 2);
  t.equal(editorView.body[0]?.article?.slug, 'draft-target');
});

t.test('20 parallel PATCHes with one ETag: exactly one wins', async (t) => {
  const { article, etag } = await create({ title: 'Contended' });
  const responses = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      app.inject({ method: 'PATCH', url: `/v1/articles/${article.id}`, headers: { ...editor, 'if-match': etag }, payload: { title: `Writer ${i}` } }),
    ),
  );
  const winners = responses.filter((r) => r.statusCode === 200);
  t.equal(winners.length, 1);
  t.equal(responses.filter((r) => r.statusCode === 412).length, 19);
  const stored = json<Article>(await app.inject({ url: `/v1/articles/${article.id}`, headers: editor }));
  t.equal(stored.title, json<Article>(winners[0]!).title);
  t.equal(stored.version, 2);
});
