import type { LightMyRequestResponse } from 'fastify';
import t, { type Test } from 'tap';
import { buildTestApp, json } from '../helper.js';
import { apiOperations, stateDifference, tableState } from '../http/api-surface.js';

/**
 * Publishing semantics: status moves only along the allowed transitions (anything else is 409
 * INVALID_TRANSITION and changes nothing), and publishedAt is the first publication time, kept
 * through edits, unpublishing and re-publishing, while visibility comes from status alone.
 */

type Article = { id: string; slug: string; title: string; status: string; publishedAt: string | null; updatedAt: string; version: number };

const { app, database, authAs } = await buildTestApp(t);
const editor = await authAs('editor', 'Publishing desk');

let serial = 0;
async function draft(payload: Record<string, unknown> = {}) {
  serial += 1;
  const response = await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: `Publishing ${serial}`, ...payload } });
  if (response.statusCode !== 201) throw new Error(`create failed: ${response.body}`);
  return { article: json<Article>(response), etag: String(response.headers.etag) };
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

function refused(t: Test, response: LightMyRequestResponse, label: string) {
  t.equal(response.statusCode, 409, `${label}: 409`);
  t.equal(json(response).code, 'INVALID_TRANSITION', `${label}: INVALID_TRANSITION`);
}

const past = (ms: number) => new Date(Date.now() - ms).toISOString();
const future = (ms: number) => new Date(Date.now() + ms).toISOString();
const HOUR = 3_600_000;

t.test('invalid moves are 409 INVALID_TRANSITION and change nothing', async (t) => {
  const fresh = await draft();
  const cases: { label: string; prepare: () => Promise<{ id: string; etag: string }>; action: string; payload?: object }[] = [
    { label: 'unpublish a draft', prepare: async () => ({ id: fresh.article.id, etag: fresh.etag }), action: 'unpublish' },
    { label: 'archive a draft', prepare: async () => ({ id: fresh.article.id, etag: fresh.etag }), action: 'archive' },
    {
      label: 'publish a published article',
      prepare: async () => {
        const d = await draft();
        const p = await act(d.article.id, 'publish', d.etag);
        return { id: d.article.id, etag: p.etag };
      },
      action: 'publish',
    },
    {
      label: 'publish a published article with a publishAt',
      prepare: async () => {
        const d = await draft();
        const p = await act(d.article.id, 'publish', d.etag);
        return { id: d.article.id, etag: p.etag };
      },
      action: 'publish',
      payload: { publishAt: past(HOUR) },
    },
    {
      label: 'archive a scheduled article',
      prepare: async () => {
        const d = await draft();
        const s = await act(d.article.id, 'publish', d.etag, { publishAt: future(HOUR) });
        return { id: d.article.id, etag: s.etag };
      },
      action: 'archive',
    },
    {
      label: 'reschedule a scheduled article',
      prepare: async () => {
        const d = await draft();
        const s = await act(d.article.id, 'publish', d.etag, { publishAt: future(HOUR) });
        return { id: d.article.id, etag: s.etag };
      },
      action: 'publish',
      payload: { publishAt: future(2 * HOUR) },
    },
    {
      label: 'archive an archived article',
      prepare: async () => {
        const d = await draft();
        const p = await act(d.article.id, 'publish', d.etag);
        const a = await act(d.article.id, 'archive', p.etag);
        return { id: d.article.id, etag: a.etag };
      },
      action: 'archive',
    },
    {
      label: 'schedule an archived article',
      prepare: async () => {
        const d = await draft();
        const p = await act(d.article.id, 'publish', d.etag);
        const a = await act(d.article.id, 'archive', p.etag);
        return { id: d.article.id, etag: a.etag };
      },
      action: 'publish',
      payload: { publishAt: future(HOUR) },
    },
  ];
  for (const { label, prepare, action, payload } of cases) {
    const { id, etag } = await prepare();
    const before = await tableState(database.db);
    const { response } = await act(id, action, etag, payload);
    refused(t, response, label);
    t.equal(stateDifference(before, await tableState(database.db)), null, `${label}: nothing written`);
  }
});

t.test('a stale If-Match is still 412 before the transition is judged', async (t) => {
  const { article } = await draft();
  const { response } = await act(article.id, 'unpublish', '"v9"');
  t.equal(response.statusCode, 412);
});

t.test('every allowed move', async (t) => {
  // draft -> scheduled -> published (publish now) -> archived -> published -> draft -> published
  const { article, etag } = await draft();
  const scheduled = await act(article.id, 'publish', etag, { publishAt: future(HOUR) });
  t.equal(scheduled.article.status, 'scheduled');
  const now = await act(article.id, 'publish', scheduled.etag);
  t.equal(now.response.statusCode, 200, 'scheduled -> published (publish now)');
  t.equal(now.article.status, 'published');
  t.ok(Date.parse(now.article.publishedAt!) <= Date.now(), 'publishing a scheduled article now moves its time to now');
  const archived = await act(article.id, 'archive', now.etag);
  t.equal(archived.article.status, 'archived');
  const back = await act(article.id, 'publish', archived.etag);
  t.equal(back.response.statusCode, 200, 'archived -> published');
  t.equal(back.article.publishedAt, now.article.publishedAt, 'keeps its first publication time');
  const unpublished = await act(article.id, 'unpublish', back.etag);
  t.equal(unpublished.article.status, 'draft', 'published -> draft');
  const again = await act(article.id, 'publish', unpublished.etag);
  t.equal(again.article.status, 'published', 'draft -> published');

  // scheduled -> draft; archived -> draft
  const other = await draft();
  const s = await act(other.article.id, 'publish', other.etag, { publishAt: future(HOUR) });
  const d = await act(other.article.id, 'unpublish', s.etag);
  t.equal(d.article.status, 'draft', 'scheduled -> draft');
  t.equal(d.article.publishedAt, null, 'an article that never went live has no publication time');
  const p = await act(other.article.id, 'publish', d.etag);
  const a = await act(other.article.id, 'archive', p.etag);
  const u = await act(other.article.id, 'unpublish', a.etag);
  t.equal(u.response.statusCode, 200, 'archived -> draft');
  t.equal(u.article.status, 'draft');
  t.equal(u.article.publishedAt, p.article.publishedAt);
});

t.test('publishedAt is the first publication time: kept on edits, unpublish and re-publish', async (t) => {
  const { article, etag } = await draft();
  const first = await act(article.id, 'publish', etag, { publishAt: past(2 * HOUR) });
  const publishedAt = first.article.publishedAt;
  const edited = await app.inject({
    method: 'PATCH',
    url: `/v1/articles/${article.id}`,
    headers: { ...editor, 'if-match': first.etag },
    payload: { lead: 'Updated' },
  });
  t.equal(json<Article>(edited).publishedAt, publishedAt, 'an edit keeps it');
  t.not(json<Article>(edited).updatedAt, first.article.updatedAt, 'updatedAt moves');
  const unpublished = await act(article.id, 'unpublish', String(edited.headers.etag));
  t.equal(unpublished.article.publishedAt, publishedAt, 'unpublishing keeps it');
  const republished = await act(article.id, 'publish', unpublished.etag);
  t.equal(republished.article.publishedAt, publishedAt, 're-publishing keeps it');

  // Newer articles stay on top of the list and the feed: the old story does not jump back.
  const newer = await draft();
  await act(newer.article.id, 'publish', newer.etag, { publishAt: past(HOUR) });
  const again = await act(article.id, 'unpublish', republished.etag);
  await act(article.id, 'publish', again.etag);
  const list = json<{ data: Article[] }>(await app.inject({ url: '/v1/articles?limit=100' })).data.map((a) => a.id);
  t.ok(list.indexOf(newer.article.id) < list.indexOf(article.id), 'the newer story stays above the re-published one');

  const explicit = await act(article.id, 'unpublish', String((await app.inject({ url: `/v1/articles/${article.id}`, headers: editor })).headers.etag));
  const moved = past(30 * 60_000);
  const withTime = await act(article.id, 'publish', explicit.etag, { publishAt: moved });
  t.equal(withTime.article.publishedAt, moved, 'a publishAt given on re-publishing replaces it');
});

t.test('an unpublished article with a kept publishedAt is hidden everywhere', async (t) => {
  const tag = json<{ id: string; slug: string }>(
    await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Kept time', slug: 'kept-time', locale: 'et' } }),
  );
  const { article, etag } = await draft({ tagIds: [tag.id], section: 'kept', locale: 'et' });
  const published = await act(article.id, 'publish', etag, { publishAt: past(HOUR) });
  const count = async () => json<{ articleCount: number }>(await app.inject({ url: `/v1/tags/${tag.id}` })).articleCount;
  const doors = async () => ({
    byId: (await app.inject({ url: `/v1/articles/${article.id}` })).statusCode,
    bySlug: (await app.inject({ url: `/v1/articles/${article.slug}?locale=et` })).statusCode,
    list: json<{ data: Article[] }>(await app.inject({ url: '/v1/articles?locale=et' })).data.length,
    tagList: json<{ data: Article[] }>(await app.inject({ url: `/v1/articles?tag=${tag.slug}` })).data.length,
    section: json<{ data: Article[] }>(await app.inject({ url: '/v1/articles?section=kept' })).data.length,
    timeline: json<{ data: unknown[] }>(await app.inject({ url: '/v1/timeline?locale=et' })).data.length,
    feed: (await app.inject({ url: '/v1/feeds/articles.json?locale=et' })).body.includes(article.id),
    tagFeed: (await app.inject({ url: `/v1/feeds/articles.json?locale=et&tag=${tag.slug}` })).body.includes(article.id),
    timelineFeed: (await app.inject({ url: '/v1/feeds/timeline.json?locale=et' })).body.includes(article.title),
    count: await count(),
  });
  t.same(await doors(), { byId: 200, bySlug: 200, list: 1, tagList: 1, section: 1, timeline: 1, feed: true, tagFeed: true, timelineFeed: true, count: 1 });
  const unpublished = await act(article.id, 'unpublish', published.etag);
  t.equal(unpublished.article.publishedAt, published.article.publishedAt);
  t.same(await doors(), { byId: 404, bySlug: 404, list: 0, tagList: 0, section: 0, timeline: 0, feed: false, tagFeed: false, timelineFeed: false, count: 0 });
  const archived = await act(article.id, 'archive', (await act(article.id, 'publish', unpublished.etag)).etag);
  t.equal(archived.article.publishedAt, published.article.publishedAt);
  t.same(await doors(), { byId: 404, bySlug: 404, list: 0, tagList: 0, section: 0, timeline: 0, feed: false, tagFeed: false, timelineFeed: false, count: 0 });
});

t.test('the OpenAPI document lists 409 for every change of status', async (t) => {
  const operations = await apiOperations(app);
  for (const id of ['publishArticle', 'unpublishArticle', 'archiveArticle']) {
    const operation = operations.find((op) => op.operationId === id);
    t.ok(operation?.responses.includes('409'), `${id} documents 409`);
  }
});
