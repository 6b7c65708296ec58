import t, { type Test } from 'tap';
import { httpDate, modifiedSince } from '../../src/http/caching.js';
import { buildTestApp, json } from '../helper.js';

/**
 * Feeds answer If-Modified-Since: Last-Modified dates the newest change to what a feed shows,
 * including something leaving it, so a client revalidating by date never keeps a stale feed.
 */
const { app, authAs } = await buildTestApp(t);
const editor = await authAs('editor');

async function created<T = { id: string; slug: string; version: number }>(url: string, payload: Record<string, unknown>): Promise<T> {
  const response = await app.inject({ method: 'POST', url, headers: editor, payload });
  if (response.statusCode !== 201) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
  return json<T>(response);
}

async function publishedArticle(title: string, tagIds: string[] = []) {
  const article = await created('/v1/articles', { title, tagIds, body: [{ type: 'paragraph', text: title }] });
  const response = await app.inject({ method: 'POST', url: `/v1/articles/${article.id}/publish`, headers: { ...editor, 'if-match': '"v1"' }, payload: {} });
  if (response.statusCode !== 200) throw new Error(response.body);
  return article;
}

/** Last-Modified has one-second precision: a change meant to be seen must fall in a later second. */
const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1_100 - (Date.now() % 1_000)));

const tag = await created('/v1/tags', { name: 'Energy' });
await publishedArticle('Older piece', [tag.id]);
await nextSecond();
const newest = await publishedArticle('Newest piece');

async function lastModifiedOf(t: Test, url: string) {
  const response = await app.inject({ url });
  t.equal(response.statusCode, 200);
  const header = response.headers['last-modified'];
  t.type(header, 'string', `${url} has Last-Modified`);
  return { header: String(header), etag: String(response.headers.etag), body: response.body };
}

const status = async (url: string, headers: Record<string, string>) => (await app.inject({ url, headers })).statusCode;

t.test('HTTP dates: the three formats RFC 9110 names, anything else ignored', async (t) => {
  const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
  t.equal(httpDate('Sun, 06 Nov 1994 08:49:37 GMT')?.getTime(), expected, 'IMF-fixdate');
  t.equal(httpDate('Sunday, 06-Nov-94 08:49:37 GMT')?.getTime(), expected, 'RFC 850');
  t.equal(httpDate('Sun Nov  6 08:49:37 1994')?.getTime(), expected, 'asctime, read as UTC');
  for (const bad of ['', 'yesterday', '1994-11-06T08:49:37Z', 'Sun, 06 Nov 1994 08:49:37 CET', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT']) {
    t.equal(httpDate(bad), null, JSON.stringify(bad));
  }
  const changed = new Date(expected + 400);
  t.equal(modifiedSince('Sun, 06 Nov 1994 08:49:37 GMT', changed), false, 'the same second is not modified since');
  t.equal(modifiedSince('Sun, 06 Nov 1994 08:49:36 GMT', changed), true);
  t.equal(modifiedSince('garbage', changed), true, 'an unparseable date asks for the whole answer');
});

t.test('Last-Modified on every feed; If-Modified-Since answered 304 when nothing changed since', async (t) => {
  for (const url of ['/v1/feeds/articles.rss', '/v1/feeds/articles.atom', '/v1/feeds/articles.json', '/v1/feeds/timeline.rss', `/v1/feeds/articles.json?tag=${tag.slug}`]) {
    const { header } = await lastModifiedOf(t, url);
    t.ok(Date.parse(header) <= Date.now(), 'never in the future');
    t.equal(await status(url, { 'if-modified-since': header }), 304, `${url}: same date → 304`);
    t.equal(await status(url, { 'if-modified-since': new Date(Date.parse(header) - 86_400_000).toUTCString() }), 200, 'older → 200');
    t.equal(await status(url, { 'if-modified-since': 'not a date' }), 200, 'unparseable → ignored');
  }
  const first = await app.inject({ url: '/v1/feeds/articles.rss' });
  t.equal(first.headers['x-cache'], 'hit', 'served from the response cache…');
  t.type(first.headers['last-modified'], 'string', '…with its Last-Modified');
});

t.test('an empty articles feed sends no Last-Modified: nothing dates it with its content', async (t) => {
  const empty = await app.inject({ url: '/v1/feeds/articles.rss?section=nowhere' });
  t.equal(empty.statusCode, 200);
  t.equal(empty.headers['last-modified'], undefined);
  t.equal(await status('/v1/feeds/articles.rss?section=nowhere', { 'if-modified-since': new Date().toUTCString() }), 200, 'so no date revalidates it');
  t.equal(await status('/v1/feeds/articles.rss?section=nowhere', { 'if-none-match': String(empty.headers.etag) }), 304, 'its ETag does');
});

t.test('If-None-Match takes precedence over If-Modified-Since', async (t) => {
  const url = '/v1/feeds/articles.atom';
  const { header, etag } = await lastModifiedOf(t, url);
  t.equal(await status(url, { 'if-none-match': '"other"', 'if-modified-since': header }), 200, 'a non-matching tag wins over a current date');
  t.equal(await status(url, { 'if-none-match': etag, 'if-modified-since': 'Sun, 06 Nov 1994 08:49:37 GMT' }), 304, 'a matching tag wins over an old date');
});

t.test('something leaving a feed moves Last-Modified forward', async (t) => {
  const url = '/v1/feeds/articles.rss';
  const before = await lastModifiedOf(t, url);
  t.match(before.body, 'Newest piece');
  await nextSecond();
  const unpublished = await app.inject({ method: 'POST', url: `/v1/articles/${newest.id}/unpublish`, headers: { ...editor, 'if-match': '"v2"' } });
  t.equal(unpublished.statusCode, 200, unpublished.body);
  const response = await app.inject({ url, headers: { 'if-modified-since': before.header } });
  t.equal(response.statusCode, 200, 'an unpublish: the new feed, not 304');
  t.notMatch(response.body, 'Newest piece');
  t.ok(Date.parse(String(response.headers['last-modified'])) > Date.parse(before.header));

  const tagFeed = `/v1/feeds/articles.atom?tag=${tag.slug}`;
  const tagged = await lastModifiedOf(t, tagFeed);
  await nextSecond();
  const deleted = await app.inject({ method: 'DELETE', url: `/v1/tags/${tag.id}?force=true`, headers: { ...editor, 'if-match': '"v1"' } });
  t.equal(deleted.statusCode, 204, deleted.body);
  const afterDelete = await app.inject({ url: tagFeed, headers: { 'if-modified-since': tagged.header } });
  t.equal(afterDelete.statusCode, 200, 'a tag delete: the new feed, not 304');
  t.notMatch(afterDelete.body, 'Older piece');

  const line = await created('/v1/timeline', { title: 'A flash line' });
  const timeline = await lastModifiedOf(t, '/v1/feeds/timeline.json');
  t.match(timeline.body, 'A flash line');
  await nextSecond();
  const removed = await app.inject({ method: 'DELETE', url: `/v1/timeline/${line.id}`, headers: { ...editor, 'if-match': '"v1"' } });
  t.equal(removed.statusCode, 204, removed.body);
  const afterRemoval = await app.inject({ url: '/v1/feeds/timeline.json', headers: { 'if-modified-since': timeline.header } });
  t.equal(afterRemoval.statusCode, 200, 'a timeline entry delete: the new feed, not 304');
  t.notMatch(afterRemoval.body, 'A flash line');
});
