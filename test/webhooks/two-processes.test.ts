import t from 'tap';
import { databaseUnderTest, freshDatabase } from '../helper.js';
import { openPostgres } from '../../src/db/postgres.js';
import { appendEvent, createWebhook, deliveries, eventually, receiver, webhookApp } from './webhook-helper.js';

/**
 * Two apps on one PostgreSQL database, as two processes would be: each event reaches each webhook
 * once, whichever app fans it out and sends it.
 */
t.test('two apps on one database deliver each event once', { skip: databaseUnderTest === 'postgres' ? false : 'PostgreSQL only' }, async (t) => {
  const { database: first, url, drop } = await freshDatabase();
  t.teardown(drop);
  const second = await openPostgres({ connectionString: String(url), poolMax: 5 });
  const one = await webhookApp(t, { database: first, limits: { pollMs: 10 } });
  const two = await webhookApp(t, { database: second, limits: { pollMs: 10 } });
  // Half the answers fail once, so retries race too.
  const target = await receiver(t, (request) => ({ status: Number(request.headers['webhook-id']) % 2 === 0 ? 500 : 204 }));
  const hook = await createWebhook(one, { url: target.url, events: ['*'] });
  let failedOnce = new Set<string>();
  target.answerWith((request) => {
    const id = String(request.headers['webhook-id']);
    if (Number(id) % 2 === 0 && !failedOnce.has(id)) {
      failedOnce = new Set([...failedOnce, id]);
      return { status: 500 };
    }
    return { status: 204, delayMs: 20 };
  });
  const ids: number[] = [];
  for (let index = 0; index < 40; index += 1) ids.push(await appendEvent(index % 2 === 0 ? one.database : two.database, 'tag.updated'));
  await eventually(
    'every delivery',
    async () => {
      const listed = await deliveries(two, hook.id, '?limit=100');
      return listed.length === ids.length && listed.every((delivery) => delivery.status === 'succeeded');
    },
    20_000,
  );
  const successes = target.received.length - failedOnce.size;
  t.equal(successes, ids.length, `${ids.length} events, each delivered once`);
  const listed = await deliveries(one, hook.id, '?limit=100');
  const attempts = listed.reduce((sum, delivery) => sum + delivery.attempts.length, 0);
  t.equal(attempts, target.received.length, 'every request the receiver got is one recorded attempt');
  t.same(new Set(listed.map((delivery) => delivery.eventId)), new Set(ids.map(String)));
});
