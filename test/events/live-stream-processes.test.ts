import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/app.js';
import { configFrom } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import { openPostgres } from '../../src/db/postgres.js';
import { keysService } from '../../src/modules/keys/keys.service.js';
import { databaseUnderTest, freshDatabase, json } from '../helper.js';
import { openStream, type SseStream } from './sse-client.js';

/*
 * Streams on every process get every write, whichever process made it, and a scheduled article's
 * article.published arrives at its time, once (docs/adr/0014-live-event-streams.md).
 */

async function listeningApp(t: Test, database: DatabaseHandle): Promise<{ app: FastifyInstance; base: string }> {
  const config = configFrom({ LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', RESPONSE_VALIDATION: 'true' });
  const app = await buildApp(config, { database, logger: pino({ level: 'silent' }) });
  t.teardown(() => app.close());
  await app.ready();
  return { app, base: await app.listen({ port: 0, host: '127.0.0.1' }) };
}

function opened(t: Test, stream: SseStream): SseStream {
  t.teardown(() => stream.close());
  return stream;
}

async function schedule(app: FastifyInstance, authorization: string, title: string, inMs: number): Promise<string> {
  const created = json<{ id: string }>(await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization }, payload: { title } }));
  const response = await app.inject({
    method: 'POST',
    url: `/v1/articles/${created.id}/publish`,
    headers: { authorization, 'if-match': '"v1"' },
    payload: { publishAt: new Date(Date.now() + inMs).toISOString() },
  });
  if (response.statusCode !== 200) throw new Error(response.body);
  return created.id;
}

const publishedIds = (stream: SseStream) =>
  stream.events.filter((event) => event.event === 'article.published').map((event) => (JSON.parse(event.data!) as { data: { id: string } }).data.id);

t.test('one process: a scheduled article arrives on the stream at its time, once', async (t) => {
  const { database, drop } = await freshDatabase();
  t.teardown(drop);
  const { app, base } = await listeningApp(t, database);
  const { key } = await keysService(database.db).create({ role: 'editor', name: 'editor' });
  const stream = opened(t, await openStream(`${base}/v1/events/stream?types=article.*`));
  const id = await schedule(app, `Bearer ${key}`, 'Polls close at eight', 1_000);
  t.same(publishedIds(stream), [], 'nothing for readers while it waits');
  await stream.waitFor((event) => event.event === 'article.published', 8_000);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.same(publishedIds(stream), [id], 'once');
});

t.test(
  'two processes on one database: a write on either reaches streams on both; scheduled go-lives arrive once on each',
  { skip: databaseUnderTest === 'postgres' ? false : 'needs two connections to one database: the PostgreSQL pass runs it' },
  async (t) => {
    const { database: first, url, drop } = await freshDatabase();
    t.teardown(drop);
    const second = await openPostgres({ connectionString: String(url), poolMax: 5 });
    const one = await listeningApp(t, first);
    const two = await listeningApp(t, second);
    const { key } = await keysService(first.db).create({ role: 'editor', name: 'editor' });
    const authorization = `Bearer ${key}`;
    const onOne = opened(t, await openStream(`${one.base}/v1/events/stream`));
    const onTwo = opened(t, await openStream(`${two.base}/v1/events/stream`));

    const tags: string[] = [];
    for (let index = 0; index < 10; index += 1) {
      const writer = index % 2 ? one.app : two.app;
      const response = await writer.inject({ method: 'POST', url: '/v1/tags', headers: { authorization }, payload: { name: `Tag ${index}` } });
      tags.push(json<{ id: string }>(response).id);
    }
    const scheduled = [];
    for (let index = 0; index < 4; index += 1) scheduled.push(await schedule(index % 2 ? one.app : two.app, authorization, `Scheduled ${index}`, 1_000 + index * 200));

    for (const stream of [onOne, onTwo]) {
      await stream.waitFor((event) => event.event === 'tag.created' && event.data!.includes(tags.at(-1)!), 8_000);
      const seenTags = stream.events.filter((event) => event.event === 'tag.created').map((event) => (JSON.parse(event.data!) as { data: { id: string } }).data.id);
      t.same(seenTags, tags, 'every tag, in order, whichever process wrote it');
    }
    for (const stream of [onOne, onTwo]) {
      for (const id of scheduled) await stream.waitFor((event) => event.event === 'article.published' && event.data!.includes(id), 10_000);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const stream of [onOne, onTwo]) {
      t.same(publishedIds(stream).sort(), [...scheduled].sort(), 'each scheduled article once');
      const ids = stream.events.map((event) => Number(event.id));
      t.same(ids, [...new Set(ids)].sort((a, b) => a - b), 'ids increase, none twice');
    }
  },
);
