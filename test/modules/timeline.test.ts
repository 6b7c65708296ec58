import t from 'tap';
import { buildTestApp, json } from '../helper.js';

type Entry = { id: string; title: string; label: string | null; occurredAt: string; version: number; article: { slug: string } | null };
type Page = { data: Entry[]; nextCursor: string | null };
type Days = { days: { date: string; entries: Entry[] }[]; nextCursor: string | null };

const { app, authAs } = await buildTestApp(t);
const editor = await authAs('editor');

async function flash(title: string, occurredAt: string, extra: Record<string, unknown> = {}) {
  const response = await app.inject({ method: 'POST', url: '/v1/timeline', headers: editor, payload: { title, occurredAt, ...extra } });
  t.equal(response.statusCode, 201, `created ${title}`);
  return json<Entry>(response);
}

async function walk(query: string, limit: number, onPage?: (page: number) => Promise<void>): Promise<Entry[]> {
  const seen: Entry[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: Page = json<Page>(await app.inject({ url: `/v1/timeline?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}` }));
    seen.push(...page.data);
    cursor = page.nextCursor;
    if (onPage) await onPage(pages);
    pages += 1;
  } while (cursor);
  return seen;
}

t.test('flash entries: create, read, If-Match writes, delete', async (t) => {
  const entry = await flash('Czech Foreign Minister Lipavsky arrives in Kyiv', '2024-11-22T09:15:00.000Z', { locale: 'cs' });
  t.equal(entry.version, 1);
  const read = await app.inject({ url: `/v1/timeline/${entry.id}` });
  t.equal(read.statusCode, 200);
  t.match(read.headers['cache-control'], /^public/);
  t.equal((await app.inject({ method: 'PATCH', url: `/v1/timeline/${entry.id}`, headers: editor, payload: { label: 'breaking' } })).statusCode, 428);
  const patched = await app.inject({
    method: 'PATCH',
    url: `/v1/timeline/${entry.id}`,
    headers: { ...editor, 'if-match': String(read.headers.etag) },
    payload: { label: 'breaking' },
  });
  t.equal(patched.statusCode, 200);
  t.equal(json<Entry>(patched).label, 'breaking');
  const stale = await app.inject({ method: 'DELETE', url: `/v1/timeline/${entry.id}`, headers: { ...editor, 'if-match': String(read.headers.etag) } });
  t.equal(stale.statusCode, 412);
  const removed = await app.inject({ method: 'DELETE', url: `/v1/timeline/${entry.id}`, headers: { ...editor, 'if-match': String(patched.headers.etag) } });
  t.equal(removed.statusCode, 204);
  t.equal((await app.inject({ url: `/v1/timeline/${entry.id}` })).statusCode, 404);
  const noTitle = await app.inject({ method: 'POST', url: '/v1/timeline', headers: editor, payload: { occurredAt: '2024-11-22T09:15:00.000Z' } });
  t.equal(noTitle.statusCode, 400);
});

t.test('articles feed the timeline: publish adds, title follows, unpublish and delete hide', async (t) => {
  const created = json<{ id: string; version: number }>(
    await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Missile strike on Dnipro', locale: 'lt', label: 'exclusive' } }),
  );
  const list = async () => json<Page>(await app.inject({ url: '/v1/timeline?locale=lt' })).data;
  t.same(await list(), [], 'a draft has no entry');
  const published = await app.inject({ method: 'POST', url: `/v1/articles/${created.id}/publish`, headers: { ...editor, 'if-match': '"v1"' } });
  const [entry] = await list();
  t.equal(entry?.title, 'Missile strike on Dnipro');
  t.equal(entry?.label, 'exclusive');
  t.equal(entry?.article?.slug, 'missile-strike-on-dnipro');
  t.equal(entry?.occurredAt, json<{ publishedAt: string }>(published).publishedAt);

  const renamed = await app.inject({
    method: 'PATCH',
    url: `/v1/articles/${created.id}`,
    headers: { ...editor, 'if-match': String(published.headers.etag) },
    payload: { title: 'Oreshnik strike on Dnipro' },
  });
  t.equal((await list())[0]?.title, 'Oreshnik strike on Dnipro', 'follows the article title');
  const entryEtag = String((await app.inject({ url: `/v1/timeline/${entry!.id}` })).headers.etag);
  await app.inject({ method: 'PATCH', url: `/v1/timeline/${entry!.id}`, headers: { ...editor, 'if-match': entryEtag }, payload: { title: 'Override' } });
  t.equal((await list())[0]?.title, 'Override', 'unless the entry overrides it');

  const unpublished = await app.inject({ method: 'POST', url: `/v1/articles/${created.id}/unpublish`, headers: { ...editor, 'if-match': String(renamed.headers.etag) } });
  t.same(await list(), [], 'unpublishing hides the entry');
  t.equal((await app.inject({ url: `/v1/timeline/${entry!.id}` })).statusCode, 404);
  const again = await app.inject({ method: 'POST', url: `/v1/articles/${created.id}/publish`, headers: { ...editor, 'if-match': String(unpublished.headers.etag) } });
  t.equal((await list()).length, 1, 'republishing shows the same entry again');
  await app.inject({ method: 'DELETE', url: `/v1/articles/${created.id}`, headers: { ...editor, 'if-match': String(again.headers.etag) } });
  t.same(await list(), [], 'deleting hides it');

  const quiet = json<{ id: string }>(await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Quiet one', locale: 'lt' } }));
  await app.inject({ method: 'POST', url: `/v1/articles/${quiet.id}/publish`, headers: { ...editor, 'if-match': '"v1"' }, payload: { addToTimeline: false } });
  t.same(await list(), [], 'addToTimeline: false');

  const scheduled = json<{ id: string }>(await app.inject({ method: 'POST', url: '/v1/articles', headers: editor, payload: { title: 'Later', locale: 'lt' } }));
  await app.inject({
    method: 'POST',
    url: `/v1/articles/${scheduled.id}/publish`,
    headers: { ...editor, 'if-match': '"v1"' },
    payload: { publishAt: new Date(Date.now() + 1200).toISOString() },
  });
  t.same(await list(), [], 'a scheduled article has no visible entry before its time');
  t.equal(json<Page>(await app.inject({ url: '/v1/timeline?locale=lt', headers: editor })).data.length, 1, 'editors see it coming');
  await new Promise((resolve) => setTimeout(resolve, 1400));
  t.same((await list()).map((e) => e.title), ['Later'], 'and it appears when the time comes');
});

t.test('days are cut in the newsroom time zone, including DST changes', async (t) => {
  await flash('Late evening UTC', '2024-11-21T22:30:00.000Z', { locale: 'et' }); // 00:30 on the 22nd in Kyiv
  await flash('Before DST ends', '2024-10-26T20:59:00.000Z', { locale: 'et' }); // 23:59 EEST on the 26th
  await flash('After DST ends', '2024-10-26T21:30:00.000Z', { locale: 'et' }); // 00:30 EEST on the 27th
  await flash('Night of the change', '2024-10-27T21:30:00.000Z', { locale: 'et' }); // 23:30 EET on the 27th
  const byDay = async (query = '') =>
    json<Days>(await app.inject({ url: `/v1/timeline?locale=et&groupBy=day${query}` })).days.map((d) => [d.date, d.entries.map((e) => e.title)]);
  t.same(await byDay(), [
    ['2024-11-22', ['Late evening UTC']],
    ['2024-10-27', ['Night of the change', 'After DST ends']],
    ['2024-10-26', ['Before DST ends']],
  ]);
  t.same((await byDay('&tz=UTC'))[0], ['2024-11-21', ['Late evening UTC']], 'tz overrides the zone');
  for (const bad of ['tz=Mars/Olympus', 'tz=', 'cursor=abc!', 'limit=0', 'limit=1000', 'groupBy=week', 'before=soon', 'label=gossip']) {
    const response = await app.inject({ url: `/v1/timeline?${bad}` });
    t.equal(response.statusCode, 400, bad);
  }
  // A day split over two pages continues on the next page under the same date.
  const first = json<Days>(await app.inject({ url: '/v1/timeline?locale=et&groupBy=day&limit=2' }));
  const second = json<Days>(await app.inject({ url: `/v1/timeline?locale=et&groupBy=day&limit=2&cursor=${first.nextCursor}` }));
  t.same(first.days.map((d) => d.date), ['2024-11-22', '2024-10-27']);
  t.same(second.days.map((d) => [d.date, d.entries.length]), [['2024-10-27', 1], ['2024-10-26', 1]]);
});

t.test('walking by cursor yields every entry once, even with shared timestamps and new entries arriving', async (t) => {
  const minute = '2024-11-22T12:00:00.000Z';
  for (let i = 0; i < 9; i += 1) await flash(`Same minute ${i}`, minute, { locale: 'lv' });
  for (let i = 0; i < 6; i += 1) await flash(`Earlier ${i}`, new Date(Date.UTC(2024, 10, 21, 10, i)).toISOString(), { locale: 'lv' });
  const seen = await walk('locale=lv', 4, async (page) => {
    // Newer entries and one inside the walked range arrive between requests.
    await flash(`Arrived during page ${page}`, new Date().toISOString(), { locale: 'lv' });
  });
  const walked = seen.filter((e) => !e.title.startsWith('Arrived'));
  t.equal(walked.length, 15);
  t.equal(new Set(seen.map((e) => e.id)).size, seen.length, 'no entry twice');
});
