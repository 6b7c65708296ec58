import t from 'tap';
import { MAX_SURROGATE_KEY_BYTES } from '../../src/http/caching.js';
import { buildTestApp, json } from '../helper.js';

// Surrogate-Key tells a CDN what a public response shows. It must not name what the public may
// not see (ids of drafts, scheduled or archived articles), and it must fit in a proxy's header
// buffer however many articles a response refers to.

const { app, authAs } = await buildTestApp(t);
const editor = await authAs('editor');

type Article = { id: string; version: number };

async function article(title: string, state: 'draft' | 'published' | 'scheduled' | 'archived'): Promise<Article> {
  let made = json<Article>(await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title, locale: 'fi' } }));
  const act = async (action: string, payload: Record<string, unknown> = {}) => {
    const response = await app.inject({ method: 'POST', url: `/v1/articles/${made.id}/${action}`, headers: { ...editor, 'if-match': `"v${made.version}"` }, payload });
    t.equal(response.statusCode, 200, `${title}: ${action}`);
    made = json<Article>(response);
  };
  if (state === 'published' || state === 'archived') await act('publish', { addToTimeline: false });
  if (state === 'archived') await act('archive');
  if (state === 'scheduled') await act('publish', { publishAt: new Date(Date.now() + 3_600_000).toISOString(), addToTimeline: false });
  return made;
}

/** "Read also" holds at most 20; the rest are referred to by related blocks in the body. */
async function publishedReferring(title: string, targets: string[]): Promise<Article> {
  const created = await app.inject({
    method: 'POST',
    url: '/v1/articles',
    headers: editor,
    payload: { title, locale: 'fi', relatedIds: targets.slice(0, 20), body: targets.map((articleId) => ({ type: 'related', articleId })) },
  });
  t.equal(created.statusCode, 201);
  const made = json<Article>(created);
  const published = await app.inject({ method: 'POST', url: `/v1/articles/${made.id}/publish`, headers: { ...editor, 'if-match': `"v${made.version}"` }, payload: { addToTimeline: false } });
  return json<Article>(published);
}

t.test('a public article names the articles it shows, never the hidden ones it refers to', async (t) => {
  const draft = await article('Hidden draft', 'draft');
  const scheduled = await article('Hidden scheduled', 'scheduled');
  const archived = await article('Hidden archived', 'archived');
  const live = await article('Shown live', 'published');
  const referring = await publishedReferring('Refers to four', [draft.id, scheduled.id, archived.id, live.id]);
  const response = await app.inject({ url: `/v1/articles/${referring.id}` });
  t.equal(response.statusCode, 200);
  const keys = String(response.headers['surrogate-key']).split(' ');
  for (const hidden of [draft, scheduled, archived]) t.notOk(keys.includes(`article:${hidden.id}`), 'a hidden article is not named');
  t.notMatch(String(response.headers['surrogate-key']), new RegExp([draft, scheduled, archived].map((a) => a.id).join('|')));
  t.ok(keys.includes(`article:${live.id}`), 'a shown one is');
  t.ok(keys.includes(`article:${referring.id}`), 'and the article itself');
});

t.test('a hidden article going live still reaches the pages that refer to it', async (t) => {
  const draft = await article('Goes live later', 'draft');
  const referring = await publishedReferring('Refers to a draft', [draft.id]);
  const before = json<{ related: unknown[] }>(await app.inject({ url: `/v1/articles/${referring.id}` }));
  t.same(before.related, [], 'hidden at first');
  await app.inject({ method: 'POST', url: `/v1/articles/${draft.id}/publish`, headers: { ...editor, 'if-match': `"v${draft.version}"` }, payload: { addToTimeline: false } });
  const after = await app.inject({ url: `/v1/articles/${referring.id}` });
  t.equal(json<{ related: { id: string }[] }>(after).related[0]?.id, draft.id, 'the cached page was invalidated');
  t.ok(String(after.headers['surrogate-key']).split(' ').includes(`article:${draft.id}`), 'and now names it');
});

t.test('the header stays within its bound for an article with many references', async (t) => {
  const targets: string[] = [];
  for (let i = 0; i < 50; i += 1) targets.push((await article(`Target ${i}`, 'published')).id);
  const referring = await publishedReferring('Refers to many', targets);
  const response = await app.inject({ url: `/v1/articles/${referring.id}` });
  t.equal(response.statusCode, 200);
  const header = String(response.headers['surrogate-key']);
  t.ok(Buffer.byteLength(header) <= MAX_SURROGATE_KEY_BYTES, `${Buffer.byteLength(header)} bytes`);
  const keys = header.split(' ');
  t.ok(keys.includes(`article:${referring.id}`), 'still names the article itself');
  t.ok(keys.includes('articles'), 'and the broad key standing for the ones left out');
  const list = await app.inject({ url: '/v1/articles?locale=fi&limit=100' });
  t.ok(Buffer.byteLength(String(list.headers['surrogate-key'])) <= MAX_SURROGATE_KEY_BYTES, 'a full list page too');
  // The page follows an edit of any referenced article all the same.
  const last = targets.at(-1)!;
  const etag = String((await app.inject({ url: `/v1/articles/${last}`, headers: editor })).headers.etag);
  await app.inject({ method: 'PATCH', url: `/v1/articles/${last}`, headers: { ...editor, 'if-match': etag }, payload: { title: 'Renamed target' } });
  const again = json<{ body: { articleId?: string; article?: { title: string } }[] }>(await app.inject({ url: `/v1/articles/${referring.id}` }));
  t.equal(again.body.find((block) => block.articleId === last)?.article?.title, 'Renamed target');
});
