import { sql } from 'drizzle-orm';
import t, { type Test } from 'tap';
import pino from 'pino';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { configFrom } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import { buildTestApp, json } from '../helper.js';

// The cached app under test, and on the same database an app with no cache: the oracle. After
// every acknowledged write, every anonymous read through the cached app must equal the oracle's.
const { app, database, authAs } = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '0' } });
const editorKey = await authAs('editor');
const editor = { authorization: editorKey.authorization };

async function siblingApp(env: Record<string, string>): Promise<FastifyInstance> {
  const shared: DatabaseHandle = { ...database, close: async () => {} };
  const sibling = await buildApp(configFrom({ LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', RATE_LIMIT_MAX: '0', ...env }), {
    database: shared,
    logger: pino({ level: 'silent' }),
  });
  t.teardown(() => sibling.close());
  await sibling.ready();
  return sibling;
}
const oracle = await siblingApp({ RESPONSE_CACHE_MB: '0' });

type Written = { id: string; slug: string; version: number };

async function send(method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, ifMatch?: number): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...editor, ...(ifMatch === undefined ? {} : { 'if-match': `"v${ifMatch}"` }) };
  const response = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return response;
}
const write = async (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, ifMatch?: number) => {
  const response = await send(method, url, payload, ifMatch);
  return response.body === '' ? ({} as Written) : json<Written>(response);
};

const tagOne = await write('POST', '/v1/tags', { name: 'Energy' });
const tagTwo = await write('POST', '/v1/tags', { name: 'Diplomacy' });
let target = await write('POST', '/v1/articles', { title: 'Power cut in Kyiv', tagIds: [tagOne.id] });
target = await write('POST', `/v1/articles/${target.id}/publish`, {}, target.version);
let citing = await write('POST', '/v1/articles', {
  title: 'Grid repairs continue',
  tagIds: [tagTwo.id],
  relatedIds: [target.id],
  body: [
    { type: 'paragraph', text: 'Crews worked overnight.' },
    { type: 'related', articleId: target.id },
  ],
});
citing = await write('POST', `/v1/articles/${citing.id}/publish`, {}, citing.version);
let bystander = await write('POST', '/v1/articles', { title: 'Theatre season opens' });
bystander = await write('POST', `/v1/articles/${bystander.id}/publish`, { addToTimeline: false }, bystander.version);
let flash = await write('POST', '/v1/timeline', { title: 'Air raid alert in Kyiv region' });
const targetEntry = json<{ data: { id: string; articleId: string | null }[] }>(await oracle.inject({ url: '/v1/timeline?limit=100' })).data.find(
  (entry) => entry.articleId === target.id,
);
if (!targetEntry) throw new Error('the published article has no timeline entry');

/** Everything an anonymous reader can fetch about this content. */
function readUrls(): string[] {
  return [
    `/v1/articles/${target.slug}`,
    `/v1/articles/${target.id}?format=html`,
    `/v1/articles/${citing.slug}`,
    `/v1/articles/${bystander.slug}`,
    '/v1/articles',
    '/v1/articles?limit=2',
    `/v1/articles?tag=energy`,
    `/v1/articles?q=kyiv`,
    '/v1/tags',
    `/v1/tags/${tagOne.id}`,
    '/v1/tags/energy',
    `/v1/tags/${tagTwo.id}`,
    '/v1/timeline',
    '/v1/timeline?groupBy=day',
    '/v1/timeline?tag=energy',
    `/v1/timeline/${targetEntry!.id}`,
    `/v1/timeline/${flash.id}`,
    '/v1/feeds/articles.rss',
    '/v1/feeds/articles.json?tag=energy',
    '/v1/feeds/timeline.atom',
  ];
}

/** Reads every URL twice through the cached app, so each is cached where it can be. */
async function warm(): Promise<void> {
  for (const url of readUrls()) {
    await app.inject({ url });
    await app.inject({ url });
  }
}

/** The answer without what differs per request (an error's request id). */
function content(response: LightMyRequestResponse): string {
  if (!String(response.headers['content-type']).startsWith('application/problem+json')) return response.body;
  const { requestId: _requestId, ...problem } = json(response);
  return JSON.stringify(problem);
}

/** What the cached app answers equals what the uncached one does, for every URL. */
async function assertFresh(t: Test, after: string): Promise<void> {
  for (const url of readUrls()) {
    const [cached, truth] = [await app.inject({ url }), await oracle.inject({ url })];
    t.equal(cached.statusCode, truth.statusCode, `${after}: ${url} status`);
    if (content(cached) !== content(truth)) t.fail(`${after}: ${url} served an old version (x-cache ${String(cached.headers['x-cache'])})`);
  }
}

t.test('anonymous reads are answered from the cache; keyed reads never are', async (t) => {
  const url = `/v1/articles/${citing.slug}`;
  const first = await app.inject({ url });
  const second = await app.inject({ url });
  t.equal(second.headers['x-cache'], 'hit');
  t.equal(second.body, first.body);
  t.equal(second.headers.etag, first.headers.etag);
  t.equal(second.headers['content-type'], first.headers['content-type']);
  t.equal(second.headers['surrogate-key'], first.headers['surrogate-key']);
  t.ok(second.headers['x-request-id'], 'per-request headers are still added');
  const conditional = await app.inject({ url, headers: { 'if-none-match': String(first.headers.etag) } });
  t.equal(conditional.statusCode, 304, 'a hit still answers 304 to a matching If-None-Match');
  const keyed = await app.inject({ url, headers: editor });
  t.notOk(keyed.headers['x-cache'], 'a reader with a key bypasses the cache');
  t.match(keyed.headers['cache-control'], /^private/);
  const feed = await app.inject({ url: '/v1/feeds/articles.rss' });
  const feedAgain = await app.inject({ url: '/v1/feeds/articles.rss' });
  t.equal(feedAgain.headers['x-cache'], 'hit');
  t.equal(feedAgain.headers['content-type'], feed.headers['content-type']);
  t.equal(feedAgain.body, feed.body);
  const metrics = (await app.inject({ url: '/metrics' })).body;
  const count = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1] ?? -1);
  t.ok(count('lede_response_cache_hits_total') >= 2, 'hits are counted');
  t.ok(count('lede_response_cache_misses_total') >= 2, 'misses are counted');
  t.ok(count('lede_response_cache_bytes') > 0, 'memory held is reported');
  const missing = await app.inject({ url: '/v1/articles/no-such-article' });
  t.equal(missing.statusCode, 404);
  t.notOk(missing.headers['x-cache'] === 'hit' || (await app.inject({ url: '/v1/articles/no-such-article' })).headers['x-cache'] === 'hit', 'errors are never cached');
});

t.test('after every acknowledged write, no read through the cache shows the old version', async (t) => {
  const steps: [string, () => Promise<unknown>][] = [
    ['retitle the cited article', async () => (target = await write('PATCH', `/v1/articles/${target.id}`, { title: 'Power cut across Kyiv' }, target.version))],
    ['move it to another tag', async () => (target = await write('PATCH', `/v1/articles/${target.id}`, { tagIds: [tagTwo.id] }, target.version))],
    ['move it back', async () => (target = await write('PATCH', `/v1/articles/${target.id}`, { tagIds: [tagOne.id] }, target.version))],
    ['change its slug', async () => (target = await write('PATCH', `/v1/articles/${target.id}`, { slug: 'power-cut-kyiv' }, target.version))],
    ['unpublish it', async () => (target = await write('POST', `/v1/articles/${target.id}/unpublish`, {}, target.version))],
    ['edit it while a draft', async () => (target = await write('PATCH', `/v1/articles/${target.id}`, { lead: 'Draft lead' }, target.version))],
    ['publish it again', async () => (target = await write('POST', `/v1/articles/${target.id}/publish`, {}, target.version))],
    ['drop the citing article’s related list', async () => (citing = await write('PATCH', `/v1/articles/${citing.id}`, { relatedIds: [] }, citing.version))],
    ['rename a tag', async () => write('PATCH', `/v1/tags/${tagOne.id}`, { name: 'Energy grid' }, 1)],
    ['re-slug a tag', async () => write('PATCH', `/v1/tags/${tagOne.id}`, { slug: 'energy' }, 2)],
    ['add a timeline line', async () => write('POST', '/v1/timeline', { title: 'Explosions heard in Odesa' })],
    ['edit a timeline line', async () => (flash = await write('PATCH', `/v1/timeline/${flash.id}`, { title: 'Air raid alert lifted' }, flash.version))],
    ['archive the cited article', async () => (target = await write('POST', `/v1/articles/${target.id}/archive`, {}, target.version))],
    ['delete a tag a live article carries', async () => write('DELETE', `/v1/tags/${tagTwo.id}?force=true`, undefined, 1)],
    ['delete the bystander', async () => write('DELETE', `/v1/articles/${bystander.id}`, undefined, bystander.version)],
    ['delete a timeline line', async () => write('DELETE', `/v1/timeline/${flash.id}`, undefined, flash.version)],
  ];
  for (const [name, step] of steps) {
    await warm();
    await step();
    await assertFresh(t, name);
  }
});

t.test('a write evicts only what shows the changed content', async (t) => {
  let unrelated = await write('POST', '/v1/articles', { title: 'Orchestra tours Europe' });
  unrelated = await write('POST', `/v1/articles/${unrelated.id}/publish`, { addToTimeline: false }, unrelated.version);
  const isolated = await write('POST', '/v1/tags', { name: 'Culture' });
  const pages = [`/v1/articles/${unrelated.slug}`, `/v1/tags/${isolated.id}`];
  const lists = ['/v1/articles', '/v1/feeds/articles.rss'];
  for (const url of [...pages, ...lists, '/v1/timeline']) await app.inject({ url });

  const draft = await write('POST', '/v1/articles', { title: 'Unpublished draft' });
  await write('PATCH', `/v1/articles/${draft.id}`, { title: 'Still a draft' }, draft.version);
  for (const url of [...pages, ...lists, '/v1/timeline']) t.equal((await app.inject({ url })).headers['x-cache'], 'hit', `a draft's edit leaves ${url}`);

  await write('PATCH', `/v1/articles/${citing.id}`, { lead: 'New lead' }, citing.version);
  for (const url of pages) t.equal((await app.inject({ url })).headers['x-cache'], 'hit', `another article's edit leaves ${url}`);
  for (const url of lists) t.equal((await app.inject({ url })).headers['x-cache'], 'miss', `a live article's edit refreshes ${url}`);
});

t.test('a scheduled article appears on time on pages cached before its time', async (t) => {
  let scheduled = await write('POST', '/v1/articles', { title: 'Scheduled briefing', tagIds: [tagOne.id] });
  const publishAt = new Date(Date.now() + 1_500);
  scheduled = await write('POST', `/v1/articles/${scheduled.id}/publish`, { publishAt: publishAt.toISOString() }, scheduled.version);
  const urls = ['/v1/articles', '/v1/timeline', '/v1/feeds/articles.rss', `/v1/tags/${tagOne.id}`, `/v1/articles/${scheduled.slug}`];
  for (const url of urls) {
    await app.inject({ url });
    await app.inject({ url });
  }
  t.equal((await app.inject({ url: '/v1/articles' })).headers['x-cache'], 'hit', 'cached before its time');
  t.notMatch((await app.inject({ url: '/v1/articles' })).body, 'Scheduled briefing');
  t.equal((await app.inject({ url: `/v1/articles/${scheduled.slug}` })).statusCode, 404);

  await new Promise((resolve) => setTimeout(resolve, Math.max(0, publishAt.getTime() - Date.now()) + 50));
  for (const url of urls) {
    const [cached, truth] = [await app.inject({ url }), await oracle.inject({ url })];
    t.equal(cached.statusCode, 200, `${url} answers once the time has come`);
    t.equal(cached.body, truth.body, `${url} shows the article once the time has come`);
  }
  t.match((await app.inject({ url: '/v1/articles' })).body, 'Scheduled briefing');
  // The go-live is then announced by a write of its own (docs/adr/0013-scheduled-go-live.md), which
  // invalidates these pages once more: let it land before the next test counts hits.
  const deadline = Date.now() + 10_000;
  const announced = async () => {
    const result = await app.database.db.execute(sql`select 1 from events where type = 'article.published' and data->>'id' = ${scheduled.id}`);
    return (result as unknown as { rows: unknown[] }).rows.length > 0;
  };
  while (!(await announced()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.ok(await announced(), 'its article.published is in the log');
});

t.test('a write through another app (another process) reaches this app’s cache', async (t) => {
  const other = await siblingApp({});
  const url = `/v1/articles/${citing.slug}`;
  await app.inject({ url });
  t.equal((await app.inject({ url })).headers['x-cache'], 'hit');
  const current = json<Written>(await oracle.inject({ url }));
  const response = await other.inject({
    method: 'PATCH',
    url: `/v1/articles/${citing.id}`,
    headers: { ...editor, 'if-match': `"v${current.version}"` },
    payload: { title: 'Grid repairs finished' },
  });
  t.equal(response.statusCode, 200);
  // The announcement travels by NOTIFY, delivered when the write commits; allow it a moment.
  const deadline = Date.now() + 2_000;
  let seen = '';
  while (Date.now() < deadline) {
    seen = (await app.inject({ url })).body;
    if (seen.includes('Grid repairs finished')) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.match(seen, 'Grid repairs finished', 'the other app’s write evicted the cached page');
});

t.test('RESPONSE_CACHE_MB=0 turns the cache off', async (t) => {
  await oracle.inject({ url: '/v1/articles' });
  t.notOk((await oracle.inject({ url: '/v1/articles' })).headers['x-cache']);
});

t.test('unknown query parameters share the entry of the URL without them; known ones do not', async (t) => {
  const url = `/v1/articles/${citing.slug}`;
  const plain = await app.inject({ url });
  const tracked = await app.inject({ url: `${url}?utm_source=newsletter&utm_medium=email` });
  t.equal(tracked.statusCode, 200);
  t.equal(tracked.headers['x-cache'], 'hit', '?utm_source=… is served the entry of the plain URL');
  t.equal(tracked.headers.etag, plain.headers.etag);
  t.equal((await app.inject({ url: `${url}?_=1732271234567` })).headers['x-cache'], 'hit', 'so is a cache buster');
  const list = '/v1/articles?limit=2';
  await app.inject({ url: list });
  t.equal((await app.inject({ url: `/v1/articles?utm_campaign=x&limit=2` })).headers['x-cache'], 'hit', 'known parameters kept, unknown ones dropped');
  t.equal((await app.inject({ url: '/v1/articles?limit=3' })).headers['x-cache'], 'miss', 'a known parameter is part of the key');

  // Bounded by what clients cannot vary: many distinct busters hold no more memory than one.
  const bytes = async () => Number(/^lede_response_cache_bytes (\d+)/m.exec((await app.inject({ url: '/metrics' })).body)?.[1] ?? -1);
  const before = await bytes();
  for (let i = 0; i < 300; i += 1) await app.inject({ url: `${url}?_=${i}&utm_content=${i}` });
  t.equal(await bytes(), before, '300 distinct cache busters add no entry');
});
