import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/app.js';
import { configFrom } from '../../src/config.js';
import type { Database } from '../../src/db/database.js';
import { openPostgres } from '../../src/db/postgres.js';
import { keysService } from '../../src/modules/keys/keys.service.js';
import { databaseUnderTest, freshDatabase, json } from '../helper.js';

/*
 * A scheduled article's article.published is announced when its time comes, once, by whichever
 * process gets there (docs/adr/0013-scheduled-go-live.md).
 */

type Logged = { id: number; type: string; public: boolean; articleId: string };

async function logged(db: Database): Promise<Logged[]> {
  const result = await db.execute(sql`select id, type, public, data->>'id' as "articleId" from events order by id`);
  return (result as unknown as { rows: Logged[] }).rows.map((row) => ({ ...row, id: Number(row.id) }));
}

async function appOn(t: Test, database: Awaited<ReturnType<typeof freshDatabase>>['database']): Promise<FastifyInstance> {
  const config = configFrom({ LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', RESPONSE_VALIDATION: 'true', SITE_URL: 'https://news.example' });
  const app = await buildApp(config, { database, logger: pino({ level: 'silent' }) });
  t.teardown(() => app.close());
  await app.ready();
  return app;
}

async function schedule(app: FastifyInstance, editor: string, title: string, inMs: number): Promise<string> {
  const created = json<{ id: string }>(await app.inject({ method: 'POST', url: '/v1/articles', headers: { authorization: editor }, payload: { title } }));
  const publishAt = new Date(Date.now() + inMs).toISOString();
  const response = await app.inject({
    method: 'POST',
    url: `/v1/articles/${created.id}/publish`,
    headers: { authorization: editor, 'if-match': '"v1"' },
    payload: { publishAt },
  });
  if (response.statusCode !== 200) throw new Error(response.body);
  return created.id;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

t.test('one process: announced at its time, once, with its timeline entry', async (t) => {
  const { database, drop } = await freshDatabase();
  t.teardown(drop);
  const app = await appOn(t, database);
  const { key } = await keysService(database.db).create({ role: 'editor', name: 'editor' });
  const id = await schedule(app, `Bearer ${key}`, 'Polls close at eight', 1_200);

  const before = (await logged(database.db)).filter((event) => event.articleId === id);
  t.same(before.map((event) => [event.type, event.public]), [['article.created', false], ['article.scheduled', false]], 'scheduling tells keys only');

  const published = await until(
    'article.published',
    async () => (await logged(database.db)).find((event) => event.type === 'article.published' && event.articleId === id),
    8_000,
  );
  t.equal(published.public, true);
  const events = await logged(database.db);
  t.ok(events.some((event) => event.type === 'timeline.entry.created' && event.public && event.id > published.id - 2), 'its entry is announced with it');
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  t.equal((await logged(database.db)).filter((event) => event.type === 'article.published' && event.articleId === id).length, 1, 'once');

  const anonymous = json<{ data: { type: string; data: { id: string; title: string; url: string } }[] }>(
    await app.inject({ url: '/v1/events?types=article.*' }),
  );
  const seen = anonymous.data.find((event) => event.data.id === id);
  t.equal(seen?.data.title, 'Polls close at eight', 'readers get the article as they now see it');
  t.equal(seen?.data.url, 'https://news.example/articles/polls-close-at-eight');
  const article = json<{ status: string; version: number }>(await app.inject({ url: `/v1/articles/${id}` }));
  t.equal(article.status, 'published');
  t.equal(article.version, 2, 'going live changes no version: an editor’s If-Match still holds');
});

t.test(
  'two processes on one database: each scheduled article announced once',
  { skip: databaseUnderTest === 'postgres' ? false : 'needs two connections to one database: the PostgreSQL pass runs it' },
  async (t) => {
    const { database: first, url, drop } = await freshDatabase();
    t.teardown(drop);
    const second = await openPostgres({ connectionString: String(url), poolMax: 5 });
    const one = await appOn(t, first);
    const two = await appOn(t, second);
    const { key } = await keysService(first.db).create({ role: 'editor', name: 'editor' });
    const ids = [];
    for (let index = 0; index < 6; index += 1) ids.push(await schedule(index % 2 ? one : two, `Bearer ${key}`, `Scheduled piece ${index}`, 1_000 + index * 150));
    await until(
      'every article.published',
      async () => ((await logged(first.db)).filter((event) => event.type === 'article.published').length >= ids.length ? true : undefined),
      10_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const announced = (await logged(first.db)).filter((event) => event.type === 'article.published').map((event) => event.articleId);
    t.same(announced.sort(), [...ids].sort(), 'each article once');
  },
);
