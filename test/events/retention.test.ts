import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildTestApp, json } from '../helper.js';

/* What is past EVENTS_RETENTION_DAYS goes: old events, and finished webhook deliveries with their attempts. */

const { app, authAs } = await buildTestApp(t, { env: { WEBHOOKS_ALLOW_PRIVATE_TARGETS: 'true', EVENTS_RETENTION_DAYS: '30' } });
const admin = await authAs('admin');
const db = app.database.db;
const rows = async <T>(query: ReturnType<typeof sql>) => (await db.execute(query)) as unknown as { rows: T[] };

t.test('the sweep removes old events and finished deliveries, never pending ones', async (t) => {
  // Disabled: the worker leaves its deliveries alone while the test arranges them.
  const hook = json<{ id: string }>(
    await app.inject({ method: 'POST', url: '/v1/webhooks', headers: admin, payload: { url: 'http://127.0.0.1:9/hook', events: ['*'], enabled: false } }),
  );
  await app.inject({ method: 'POST', url: '/v1/tags', headers: admin, payload: { name: 'Old news' } });
  await app.inject({ method: 'POST', url: '/v1/tags', headers: admin, payload: { name: 'Older news' } });
  await app.inject({ method: 'POST', url: '/v1/tags', headers: admin, payload: { name: 'Fresh news' } });
  const events = (await rows<{ id: string }>(sql`select id from events order by id`)).rows.map((row) => Number(row.id));
  t.equal(events.length, 3);
  await db.execute(sql`update events set occurred_at = now() - interval '40 days' where id <= ${events[1]}`);

  const delivery = (status: string, finishedDaysAgo: number | null, eventId: number) => sql`
    insert into webhook_deliveries (webhook_id, event_id, event_type, event_occurred_at, body, status, retry_until, finished_at)
    values (${hook.id}, ${eventId}, 'tag.created', now(), '{}', ${status}, now(),
      ${finishedDaysAgo === null ? null : sql`now() - make_interval(days => ${finishedDaysAgo})`})
    returning id`;
  const oldSucceeded = (await rows<{ id: string }>(delivery('succeeded', 40, 1))).rows[0]!.id;
  await db.execute(sql`insert into webhook_attempts (delivery_id, duration_ms, response_status) values (${oldSucceeded}, 12, 204)`);
  await db.execute(delivery('failed', 40, 2));
  await db.execute(delivery('succeeded', 1, 3));
  await db.execute(delivery('pending', null, 4));

  await app.eventScheduler.sweep();

  t.same((await rows<{ id: string }>(sql`select id from events order by id`)).rows.map((row) => Number(row.id)), events.slice(2), 'the old events went');
  const left = (await rows<{ event_id: string; status: string }>(sql`select event_id, status from webhook_deliveries order by event_id`)).rows;
  t.same(left.map((row) => [Number(row.event_id), row.status]), [[3, 'succeeded'], [4, 'pending']], 'finished and old: gone; recent or pending: kept');
  t.equal((await rows<{ n: number }>(sql`select count(*)::integer as n from webhook_attempts`)).rows[0]?.n, 0, 'with their attempts');
  const expired = await app.inject({ url: `/v1/events?after=${events[0]}` });
  t.equal(expired.statusCode, 410, 'a client behind the sweep is told to resync');
  t.equal((await app.inject({ url: `/v1/events?after=${events[1]}` })).statusCode, 200, 'one at the swept id is not');
});
