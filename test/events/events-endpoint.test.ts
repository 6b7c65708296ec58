import { sql } from 'drizzle-orm';
import t from 'tap';
import { sweepExpired } from '../../src/modules/events/events.repository.js';
import { buildTestApp, json } from '../helper.js';

type Page = { data: { id: string; type: string; occurredAt: string; data: { id: string } }[]; nextCursor: string | null };

const { app, authAs } = await buildTestApp(t);
const reader = await authAs('reader');

const editor = await authAs('editor');

async function write(method: 'POST' | 'PATCH', url: string, payload: Record<string, unknown> | undefined, version?: number) {
  const headers = { ...editor, ...(version ? { 'if-match': `"v${version}"` } : {}) };
  const response = await app.inject({ method, url, headers, payload });
  if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return json<{ id: string; version: number }>(response);
}

// Keys-only: a draft made and edited. Public: a publication (with its entry), a tag, an unpublish.
const draft = await write('POST', '/v1/articles', { title: 'Secret draft' });
await write('PATCH', `/v1/articles/${draft.id}`, { lead: 'Still secret' }, draft.version);
const live = await write('POST', '/v1/articles', { title: 'Grid under attack' });
await write('POST', `/v1/articles/${live.id}/publish`, {}, live.version);
const tag = await write('POST', '/v1/tags', { name: 'Energy' });
const later = await write('POST', '/v1/articles', { title: 'Embargoed piece' });
await write('POST', `/v1/articles/${later.id}/publish`, { publishAt: new Date(Date.now() + 86_400_000).toISOString() }, later.version);
await write('POST', `/v1/articles/${live.id}/unpublish`, undefined, live.version + 1);

const page = async (query: string, headers: Record<string, string> = {}) => {
  const response = await app.inject({ url: `/v1/events${query}`, headers });
  t.equal(response.statusCode, 200, query);
  return { response, page: json<Page>(response) };
};

t.test('anonymous callers get public events only, oldest first, never cached', async (t) => {
  const { response, page: anonymous } = await page('');
  t.same(
    anonymous.data.map((item) => item.type),
    ['article.published', 'timeline.entry.created', 'tag.created', 'article.unpublished', 'timeline.entry.deleted'],
  );
  t.same(anonymous.data.map((item) => item.data.id).filter((id) => id === live.id).length, 2, 'the article went live, then went');
  t.ok(anonymous.data.some((item) => item.data.id === tag.id));
  t.equal(response.headers['cache-control'], 'no-store');
  t.not(response.headers['x-cache'], 'hit');
  const ids = anonymous.data.map((item) => Number(item.id));
  t.same(ids, [...ids].sort((a, b) => a - b), 'ids increase');
  t.notMatch(response.body, /Secret draft|Still secret|Embargoed/, 'nothing about drafts or schedules');
  t.notMatch(response.body, new RegExp(`${draft.id}|${later.id}`));
});

t.test('a key gets every event', async (t) => {
  const { page: keyed } = await page('', { authorization: reader.authorization });
  const types = keyed.data.map((item) => item.type);
  for (const type of ['article.created', 'article.changed', 'article.scheduled']) t.ok(types.includes(type), type);
  t.ok(keyed.data.some((item) => item.data.id === draft.id));
  t.ok(keyed.data.length > 5);
});

t.test('after, types with patterns, limit and cursor', async (t) => {
  const { page: all } = await page('', { authorization: reader.authorization });
  const third = all.data[2]!.id;
  const { page: after } = await page(`?after=${third}`, { authorization: reader.authorization });
  t.same(after.data.map((item) => item.id), all.data.slice(3).map((item) => item.id), 'strictly after the id');

  const { page: articles } = await page('?types=article.*', { authorization: reader.authorization });
  t.same([...new Set(articles.data.map((item) => item.type))].sort(), ['article.changed', 'article.created', 'article.published', 'article.scheduled', 'article.unpublished']);
  const { page: mixed } = await page('?types=tag.created,*.unpublished');
  t.same(mixed.data.map((item) => item.type), ['tag.created', 'article.unpublished']);
  const { page: removals } = await page('?types=*.deleted');
  t.same(removals.data.map((item) => item.type), ['timeline.entry.deleted']);
  const { page: unknown } = await page('?types=nothing.here');
  t.same(unknown.data, [], 'an unknown type matches nothing');

  const walked: string[] = [];
  let cursor: string | null = null;
  do {
    const { page: chunk }: { page: Page } = await page(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { authorization: reader.authorization });
    walked.push(...chunk.data.map((item) => item.id));
    cursor = chunk.nextCursor;
  } while (cursor);
  t.same(walked, all.data.map((item) => item.id), 'paging walks every event once');
});

t.test('bad input is 400', async (t) => {
  for (const query of ['?after=abc', '?after=-1', '?limit=0', '?limit=501', '?types=ARTICLE', '?types=article..x', '?cursor=nope']) {
    const response = await app.inject({ url: `/v1/events${query}` });
    t.equal(response.statusCode, 400, query);
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
  }
});

t.test('past the retention: an after below the swept id is 410 EVENTS_EXPIRED', async (t) => {
  const { page: all } = await page('', { authorization: reader.authorization });
  const ids = all.data.map((item) => Number(item.id));
  // Age the first three events past the retention, then sweep.
  await app.database.db.execute(sql`update events set occurred_at = now() - interval '40 days' where id <= ${ids[2]}`);
  t.equal(await sweepExpired(app.database.db, 30), 3);
  const expired = await app.inject({ url: `/v1/events?after=${ids[1]}` });
  t.equal(expired.statusCode, 410);
  t.equal(json<{ code: string }>(expired).code, 'EVENTS_EXPIRED');
  const caughtUp = await page(`?after=${ids[2]}`, { authorization: reader.authorization });
  t.same(caughtUp.page.data.map((item) => Number(item.id)), ids.slice(3), 'an after at the swept id is fine');
  const fromOldest = await page('', { authorization: reader.authorization });
  t.same(fromOldest.page.data.map((item) => Number(item.id)), ids.slice(3), 'without after: from the oldest kept');
});
