import { asc, gt } from 'drizzle-orm';
import t, { type Test } from 'tap';
import { events } from '../../src/db/schema/events.js';
import { goLiveEvents } from '../../src/events/article-events.js';
import { isPublicEvent } from '../../src/events/event-types.js';
import { buildTestApp, json } from '../helper.js';

/*
 * Every write emits its events into the change log, in its transaction: editors (keys) hear of
 * every change, anonymous readers only of what they can see, and never of a draft's or a
 * scheduled article's content. Each event names what a CDN should purge.
 */

type Event = { id: number; type: string; public: boolean; data: Record<string, unknown> & { id: string; surrogateKeys: string[] } };
type Written = { id: string; version: number; slug: string; title: string };

const SITE = 'https://news.example';
const { app, database, authAs } = await buildTestApp(t, { env: { SITE_URL: SITE } });
const editor = await authAs('editor', 'Events desk');
const db = database.db;

let lastSeen = 0;
/** The events appended since the previous call, in id order. */
async function newEvents(): Promise<Event[]> {
  const rows = (await db.select().from(events).where(gt(events.id, lastSeen)).orderBy(asc(events.id))) as Event[];
  if (rows.length > 0) lastSeen = rows.at(-1)!.id;
  return rows;
}
const summary = (list: Pick<Event, 'type' | 'public'>[]) => list.map((event) => `${event.type} ${event.public ? 'public' : 'keys'}`);

async function send(method: string, url: string, payload?: object, etag?: string) {
  const response = await app.inject({ method: method as 'POST', url, headers: { ...editor, ...(etag ? { 'if-match': etag } : {}) }, ...(payload ? { payload } : {}) });
  return { status: response.statusCode, body: response.body ? json<Written>(response) : undefined, etag: String(response.headers.etag) };
}

let serial = 0;
async function draft(payload: object = {}) {
  serial += 1;
  const created = await send('POST', '/v1/articles', { title: `Events story ${serial}`, ...payload });
  if (created.status !== 201) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
  return { ...created.body!, etag: created.etag };
}
async function live(payload: object = {}) {
  const article = await draft(payload);
  const published = await send('POST', `/v1/articles/${article.id}/publish`, undefined, article.etag);
  return { ...published.body!, etag: published.etag };
}

const future = (ms: number) => new Date(Date.now() + ms).toISOString();

await newEvents();

t.test('a draft is heard of by keys only: create, edit, delete', async (t) => {
  const article = await draft({ lead: 'Not for readers yet' });
  const [created] = await newEvents();
  t.same(summary([created!]), ['article.created keys']);
  t.equal(created!.data.id, article.id);
  t.equal(created!.data.lead, 'Not for readers yet', 'the editor view');
  t.equal(created!.data.status, 'draft');
  t.equal(created!.data.url, `${SITE}/articles/${article.slug}`, 'with its page address');
  t.same(created!.data.surrogateKeys, [`article:${article.id}`], 'a draft changes only its own page');

  const edited = await send('PATCH', `/v1/articles/${article.id}`, { title: 'Still a draft' }, article.etag);
  const afterEdit = await newEvents();
  t.same(summary(afterEdit), ['article.changed keys']);
  t.equal(afterEdit[0]!.data.title, 'Still a draft');

  t.equal((await send('DELETE', `/v1/articles/${article.id}`, undefined, edited.etag)).status, 204);
  const afterDelete = await newEvents();
  t.same(summary(afterDelete), ['article.changed keys']);
  t.same(afterDelete[0]!.data, { id: article.id, surrogateKeys: [`article:${article.id}`] }, 'a removal: its id alone');
});

t.test('a publish: article.published and its timeline entry, both public', async (t) => {
  const tag = (await send('POST', '/v1/tags', { name: 'Grid' })).body!;
  await newEvents();
  const article = await draft({ tagIds: [tag.id], lead: 'Live now' });
  await newEvents();
  const published = await send('POST', `/v1/articles/${article.id}/publish`, undefined, article.etag);
  t.equal(published.status, 200);
  const list = await newEvents();
  t.same(summary(list), ['article.published public', 'timeline.entry.created public'], 'keys hear of it through article.published');
  const [articleEvent, entryEvent] = list;
  t.equal(articleEvent!.data.id, article.id);
  t.equal(articleEvent!.data.status, 'published');
  t.equal(articleEvent!.data.lead, 'Live now');
  t.ok(typeof articleEvent!.data.url === 'string', 'with its page address');
  t.same(
    [...articleEvent!.data.surrogateKeys].sort(),
    ['articles', 'feeds', 'tags', `tag:${tag.id}`, 'timeline', `article:${article.id}`].sort(),
    'what the write purges: its page, lists, feeds, its tags, the timeline',
  );
  const timeline = json<{ data: { id: string; articleId: string }[] }>(await app.inject({ url: '/v1/timeline' }));
  const entry = timeline.data.find((one) => one.articleId === article.id)!;
  t.equal(entryEvent!.data.id, entry.id, 'the entry readers now see');
  t.equal(entryEvent!.data.articleId, article.id);
  t.equal(entryEvent!.data.title, published.body!.title);
  t.same(entryEvent!.data.surrogateKeys, ['timeline', `timeline:${entry.id}`]);
});

t.test('an edit of a live article: article.updated, and its entry when it shows the change', async (t) => {
  const hidden = await draft({ title: 'A draft it refers to' });
  const article = await live({ relatedIds: [hidden.id] });
  await newEvents();

  const lead = await send('PATCH', `/v1/articles/${article.id}`, { lead: 'A new lead' }, article.etag);
  const afterLead = await newEvents();
  t.same(summary(afterLead), ['article.changed keys', 'article.updated public'], 'the entry does not show the lead');
  const [changed, updated] = afterLead;
  t.equal(updated!.data.lead, 'A new lead');
  t.same(updated!.data.related, [], 'readers do not see the draft it refers to');
  t.same((changed!.data.related as { id: string }[]).map((one) => one.id), [hidden.id], 'editors do');
  t.ok(updated!.data.surrogateKeys.includes('articles'));

  await send('PATCH', `/v1/articles/${article.id}`, { title: 'A new title', slug: 'a-new-slug' }, lead.etag);
  const afterTitle = await newEvents();
  t.same(summary(afterTitle), ['article.changed keys', 'article.updated public', 'timeline.entry.updated public']);
  t.equal(afterTitle[1]!.data.slug, 'a-new-slug');
  t.equal(afterTitle[2]!.data.title, 'A new title');
  t.equal(afterTitle[2]!.data.url, `${SITE}/articles/a-new-slug`);
});

t.test('a scheduled publish is heard of by keys only; the scheduler publishes it when due', async (t) => {
  const article = await draft({ title: 'Tomorrow' });
  await newEvents();
  const publishAt = future(1_500);
  const scheduled = await send('POST', `/v1/articles/${article.id}/publish`, { publishAt }, article.etag);
  t.equal(scheduled.status, 200);
  const list = await newEvents();
  t.same(summary(list), ['article.scheduled keys'], 'no public event, not even for its entry');
  t.equal(list[0]!.data.status, 'scheduled');

  t.same(await db.transaction((tx) => goLiveEvents(tx, article.id, app.siteUrls)), [], 'nothing before its time');
  await new Promise((resolve) => setTimeout(resolve, Date.parse(publishAt) - Date.now() + 50));
  const due = await db.transaction((tx) => goLiveEvents(tx, article.id, app.siteUrls));
  t.same(summary(due.map((draft) => ({ type: draft.type, public: isPublicEvent(draft) }))), [
    'article.published public',
    'timeline.entry.created public',
  ]);
  t.equal(due[0]!.data.status, 'published', 'as readers now see it');
  t.ok(due[0]!.data.surrogateKeys.includes('timeline'));
  t.equal(due[1]!.data.articleId, article.id);
  // The app's own scheduler announces it as well: wait for that here, or on a busy machine it lands
  // among a later test's events.
  for (let waited = 0; waited < 15_000; waited += 50) {
    if ((await newEvents()).some((event) => event.type === 'article.published' && (event.data as { id?: string }).id === article.id)) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

t.test('unpublish, archive and delete of a live article: article.unpublished with its id alone', async (t) => {
  for (const action of ['unpublish', 'archive', 'delete'] as const) {
    const article = await live();
    await newEvents();
    const done = action === 'delete'
      ? await send('DELETE', `/v1/articles/${article.id}`, undefined, article.etag)
      : await send('POST', `/v1/articles/${article.id}/${action}`, undefined, article.etag);
    t.ok(done.status === 200 || done.status === 204, `${action}: done`);
    const list = await newEvents();
    t.same(summary(list), ['article.changed keys', 'article.unpublished public', 'timeline.entry.deleted public'], action);
    const unpublished = list[1]!;
    t.same(Object.keys(unpublished.data).sort(), ['id', 'surrogateKeys'], `${action}: nothing but the id and keys`);
    t.equal(unpublished.data.id, article.id);
    t.ok(unpublished.data.surrogateKeys.includes('articles'), `${action}: lists are purged`);
    t.same(Object.keys(list[2]!.data).sort(), ['id', 'surrogateKeys']);
  }
});

t.test('unpublishing a scheduled article tells keys only', async (t) => {
  const article = await draft();
  const scheduled = await send('POST', `/v1/articles/${article.id}/publish`, { publishAt: future(3_600_000) }, article.etag);
  await newEvents();
  await send('POST', `/v1/articles/${article.id}/unpublish`, undefined, scheduled.etag);
  t.same(summary(await newEvents()), ['article.changed keys']);
});

t.test('a rolled-back write emits nothing', async (t) => {
  const article = await live();
  await newEvents();
  const again = await send('POST', `/v1/articles/${article.id}/publish`, undefined, article.etag);
  t.equal(again.status, 409, 'INVALID_TRANSITION');
  const stale = await send('PATCH', `/v1/articles/${article.id}`, { lead: 'Too late' }, '"1"');
  t.equal(stale.status, 412);
  const tag = (await send('POST', '/v1/tags', { name: 'Stale tag' })).body!;
  await newEvents();
  t.equal((await send('PATCH', `/v1/tags/${tag.id}`, { name: 'Renamed' }, '"7"')).status, 412);
  t.same(await newEvents(), []);
});

t.test('tags: public events, counting live articles only', async (t) => {
  const created = await send('POST', '/v1/tags', { name: 'Energy' });
  const tag = created.body!;
  const [createdEvent] = await newEvents();
  t.same(summary([createdEvent!]), ['tag.created public']);
  t.equal(createdEvent!.data.slug, 'energy');
  t.equal(createdEvent!.data.articleCount, 0);
  t.same(createdEvent!.data.surrogateKeys, ['tags', `tag:${tag.id}`]);

  const carrier = await live({ tagIds: [tag.id] });
  const draftCarrier = await draft({ tagIds: [tag.id] });
  await newEvents();
  const renamed = await send('PATCH', `/v1/tags/${tag.id}`, { name: 'Power' }, created.etag);
  const [updated] = await newEvents();
  t.same(summary([updated!]), ['tag.updated public']);
  t.equal(updated!.data.name, 'Power');
  t.equal(updated!.data.articleCount, 1, 'the draft is not counted');

  t.equal((await send('DELETE', `/v1/tags/${tag.id}?force=true`, undefined, renamed.etag)).status, 204);
  const list = await newEvents();
  t.same(summary(list), ['tag.deleted public', 'article.updated public'], 'the live article carrying it changed; the draft is not told');
  t.same(list[0]!.data, { id: tag.id, surrogateKeys: ['tags', `tag:${tag.id}`] });
  t.equal(list[1]!.data.id, carrier.id);
  t.same(list[1]!.data.tags, [], 'without the tag');
  t.ok(list[1]!.data.surrogateKeys.includes(`article:${carrier.id}`));
  t.not(list[1]!.data.id, draftCarrier.id);
});

t.test('timeline entries written directly: public while readers see them', async (t) => {
  const flash = await send('POST', '/v1/timeline', { title: 'Power is back' });
  const [created] = await newEvents();
  t.same(summary([created!]), ['timeline.entry.created public']);
  t.equal(created!.data.id, flash.body!.id);
  t.equal(created!.data.title, 'Power is back');
  t.same(created!.data.surrogateKeys, ['timeline', `timeline:${flash.body!.id}`]);

  const edited = await send('PATCH', `/v1/timeline/${flash.body!.id}`, { title: 'Power is back in the east' }, flash.etag);
  const [updated] = await newEvents();
  t.same(summary([updated!]), ['timeline.entry.updated public']);
  t.equal(updated!.data.title, 'Power is back in the east');

  await send('DELETE', `/v1/timeline/${flash.body!.id}`, undefined, edited.etag);
  const [deleted] = await newEvents();
  t.same(summary([deleted!]), ['timeline.entry.deleted public']);
  t.same(deleted!.data, { id: flash.body!.id, surrogateKeys: ['timeline', `timeline:${flash.body!.id}`] });

  const article = await draft({ title: 'Embargoed' });
  await newEvents();
  const entry = await send('POST', '/v1/timeline', { articleId: article.id });
  t.equal(entry.status, 201);
  const draftEntry = await newEvents();
  t.same(summary(draftEntry), ['timeline.entry.created keys'], "a draft's entry: keys only");
  await send('DELETE', `/v1/timeline/${entry.body!.id}`, undefined, entry.etag);
  t.same(summary(await newEvents()), ['timeline.entry.deleted keys']);
});

t.test('the whole log: ids increase, and no public event carries what readers may not see', async (t: Test) => {
  const all = (await db.select().from(events).orderBy(asc(events.id))) as Event[];
  t.ok(all.length > 30);
  t.ok(all.every((event, i) => i === 0 || event.id > all[i - 1]!.id), 'ids increase');
  const leaks = all.filter((event) => event.public && 'status' in event.data && event.data.status !== 'published');
  t.same(leaks, [], 'every public article is published');
  t.notOk(all.some((event) => event.public && ['article.created', 'article.changed', 'article.scheduled'].includes(event.type)));
  t.notOk(
    all.some((event) => event.public && JSON.stringify(event.data).includes('Embargoed')),
    "a draft's title reaches no public event",
  );
});
