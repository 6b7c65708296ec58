import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildTestApp, json } from '../helper.js';
import { openStream, type SseEvent, type SseStream } from './sse-client.js';

type LoggedEvent = { id: string; type: string; data: { id: string } };

const { app, authAs, database } = await buildTestApp(t, { env: { STREAM_HEARTBEAT_MS: '300' } });
const editor = await authAs('editor');
const base = await app.listen({ port: 0, host: '127.0.0.1' });
const streamUrl = `${base}/v1/events/stream`;

const streams: SseStream[] = [];
async function stream(query = '', headers: Record<string, string> = {}) {
  const opened = await openStream(`${streamUrl}${query}`, headers);
  streams.push(opened);
  return opened;
}
t.teardown(() => streams.forEach((opened) => opened.close()));

async function write(method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: Record<string, unknown>, version?: number) {
  const headers = { ...editor, ...(version ? { 'if-match': `"v${version}"` } : {}) };
  const response = await app.inject({ method, url, headers, payload });
  if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return response.statusCode === 204 ? { id: '', version: 0 } : json<{ id: string; version: number }>(response);
}

async function publishNew(title: string) {
  const created = await write('POST', '/v1/articles', { title });
  await write('POST', `/v1/articles/${created.id}/publish`, {}, created.version);
  return created;
}

/** The log as GET /v1/events pages it after `after`, for the caller's key (or anonymously). */
async function logAfter(after: string, headers: Record<string, string> = {}, query = ''): Promise<LoggedEvent[]> {
  const all: LoggedEvent[] = [];
  let url = `/v1/events?after=${after}&limit=500${query}`;
  for (;;) {
    const page = json<{ data: LoggedEvent[]; nextCursor: string | null }>(await app.inject({ url, headers }));
    all.push(...page.data);
    if (!page.nextCursor) return all;
    url = `/v1/events?cursor=${page.nextCursor}&limit=500${query}`;
  }
}

const parsed = (event: SseEvent) => JSON.parse(event.data!) as LoggedEvent;

t.test('a publish reaches an open stream live; anonymous streams carry public events only', async (t) => {
  const anonymous = await stream();
  const keyed = await stream('', { authorization: editor.authorization });
  t.equal(anonymous.status, 200);
  t.match(anonymous.headers['content-type'], /^text\/event-stream/);
  t.equal(anonymous.headers['cache-control'], 'no-store');
  t.notOk(anonymous.headers.etag, 'no ETag on a stream');
  t.equal(anonymous.headers['x-content-type-options'], 'nosniff', 'the security headers, as on every answer');
  t.ok(anonymous.headers['x-request-id'], 'a request id');
  t.ok(anonymous.headers['ratelimit-limit'], 'the rate limit headers the hooks set before the stream began');

  const article = await publishNew('Grid under attack');
  const published = await anonymous.waitFor((event) => event.event === 'article.published');
  t.equal(parsed(published).data.id, article.id);
  t.equal(published.id, parsed(published).id, 'the SSE id is the event id');
  await anonymous.waitFor((event) => event.event === 'timeline.entry.created');
  await keyed.waitFor((event) => event.event === 'article.published');
  t.ok(keyed.events.some((event) => event.event === 'article.created'), 'a key gets key-only events');
  t.notOk(anonymous.events.some((event) => event.event === 'article.created'), 'anonymous streams never see a draft');
  t.same(anonymous.retries, [3000], 'a retry hint first');

  const draft = await write('POST', '/v1/articles', { title: 'Secret draft' });
  await write('PATCH', `/v1/articles/${draft.id}`, { lead: 'still secret' }, draft.version);
  await keyed.waitFor((event) => event.event === 'article.changed' && parsed(event).data.id === draft.id);
  for (const event of anonymous.events) t.notMatch(event.data, /Secret draft|still secret/);
  const since = anonymous.comments;
  await new Promise((resolve) => setTimeout(resolve, 700));
  t.ok(anonymous.comments > since, 'heartbeat comments keep an idle stream talking');
});

t.test('types filter with patterns', async (t) => {
  const tagsOnly = await stream('?types=tag.*');
  await publishNew('Not a tag');
  const tag = await write('POST', '/v1/tags', { name: 'Energy grid' });
  const created = await tagsOnly.waitFor((event) => event.event === 'tag.created');
  t.equal(parsed(created).data.id, tag.id);
  t.ok(tagsOnly.events.every((event) => event.event?.startsWith('tag.')));
});

t.test('resumes after Last-Event-ID (or after) from the log, then live, with nothing lost or repeated at the seam', async (t) => {
  const first = await publishNew('Before the gap');
  const [mark] = (await logAfter('0', editor)).filter((event) => event.data.id === first.id).slice(-1);
  t.ok(mark);
  // Writes keep coming while the stream replays and switches to live.
  const writes = (async () => {
    for (let index = 0; index < 25; index += 1) await write('POST', '/v1/tags', { name: `Seam tag ${index}` });
  })();
  await new Promise((resolve) => setTimeout(resolve, 30));
  const resumed = await stream('?after=1', { authorization: editor.authorization, 'last-event-id': mark!.id });
  await writes;
  const last = await write('POST', '/v1/tags', { name: 'Seam tag last' });
  await resumed.waitFor((event) => event.event === 'tag.created' && parsed(event).data.id === last.id);
  const expected = (await logAfter(mark!.id, editor)).map((event) => event.id);
  const got = resumed.events.map((event) => event.id);
  t.same(got, expected, 'exactly the log after the mark, in order');
  t.equal(new Set(got).size, got.length, 'no event twice');

  const anonymous = await stream(`?after=${mark!.id}`);
  const anonymousLast = await write('POST', '/v1/tags', { name: 'Seam tag anonymous' });
  await anonymous.waitFor((event) => parsed(event).data.id === anonymousLast.id);
  t.same(
    anonymous.events.map((event) => event.id),
    (await logAfter(mark!.id)).map((event) => event.id),
    'an anonymous resume replays the public log',
  );
});

t.test('a resume point older than the retention gets events.expired, then the end', async (t) => {
  await database.db.execute(sql`update event_log_state set swept_through = 2`);
  t.teardown(() => database.db.execute(sql`update event_log_state set swept_through = 0`));
  const old = await stream('', { 'last-event-id': '1' });
  await old.ended;
  t.same(old.events.map((event) => event.event), ['events.expired']);
  t.match(JSON.parse(old.events[0]!.data!), { after: '1', sweptThrough: '2' });
});

t.test('a bad resume point is a 400 problem', async (t) => {
  const bad = await stream('', { 'last-event-id': 'yesterday' });
  t.equal(bad.status, 400);
  t.match(bad.headers['content-type'], /problem\+json/);
  t.match(JSON.parse(await bad.body()), { code: 'VALIDATION_FAILED' });
});

t.test('never in the response cache, and the stream is in /metrics', async (t) => {
  const one = await stream();
  const two = await stream();
  t.not(one.headers['x-cache'], 'hit');
  t.not(two.headers['x-cache'], 'hit');
  const metrics = await app.inject({ url: '/metrics' });
  t.match(metrics.body, /lede_event_streams_open \d+/);
  t.match(metrics.body, /lede_event_streams_dropped_total/);
});

t.test('a stream without a resume point starts with the next event, even after writes no stream heard', async (t) => {
  streams.splice(0).forEach((opened) => opened.close());
  await new Promise((resolve) => setTimeout(resolve, 100));
  await write('POST', '/v1/tags', { name: 'Nobody listening' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const fresh = await stream();
  const next = await write('POST', '/v1/tags', { name: 'Someone listening' });
  const first = await fresh.waitFor((event) => event.event === 'tag.created');
  t.equal(parsed(first).data.id, next.id, 'not the write made before it opened');
});
