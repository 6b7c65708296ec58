import t from 'tap';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import { openPostgres } from '../../src/db/postgres.js';
import { buildTestApp, freshDatabase, json } from '../helper.js';

// The main app stays healthy; a second app has its database closed under it.
const { app, database, config } = await buildTestApp(t);

t.test('/healthz answers 200 {status: ok}', async (t) => {
  const response = await app.inject({ url: '/healthz' });
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /^application\/json/);
  t.same(json(response), { status: 'ok' });
  t.equal(response.headers['cache-control'], 'no-store', 'probes are never cached');
});

t.test('/readyz answers 200 when the database is up and migrated', async (t) => {
  const response = await app.inject({ url: '/readyz' });
  t.equal(response.statusCode, 200);
  t.same(json(response), { status: 'ready', database: 'up', migrations: 'applied', replicas: [] });
  t.equal(response.headers['cache-control'], 'no-store');
  t.notOk(response.headers['retry-after']);
});

t.test('/readyz answers 503 with Retry-After while migrations are pending', async (t) => {
  // The same database, but reporting a migration it has not applied; closing this app must not
  // close the database the main app still uses.
  const pending: DatabaseHandle = {
    db: database.db,
    kind: database.kind,
    ping: () => database.ping(),
    migrate: async () => {},
    migrationsApplied: async () => false,
    listen: (channel, subscriber) => database.listen(channel, subscriber),
    close: async () => {},
  };
  const lagging = await buildApp(config, { database: pending, logger: pino({ level: 'silent' }) });
  t.teardown(() => lagging.close());
  const response = await lagging.inject({ url: '/readyz' });
  t.equal(response.statusCode, 503);
  t.match(response.headers['retry-after'], /^\d+$/);
  t.same(json(response), { status: 'unavailable', database: 'up', migrations: 'pending', replicas: [] });
  t.equal((await lagging.inject({ url: '/healthz' })).statusCode, 200, 'still alive');
});

t.test('with the database closed, /readyz is 503 with Retry-After and /healthz stays 200', async (t) => {
  // Built by hand rather than with buildTestApp, so the second close below is asserted on
  // instead of failing the file's teardown.
  const fresh = await freshDatabase();
  t.teardown(() => fresh.drop());
  const down = await buildApp(config, { database: fresh.database, logger: pino({ level: 'silent' }) });
  await down.ready();
  t.equal((await down.inject({ url: '/readyz' })).statusCode, 200, 'ready before the database goes away');
  await down.database.close();

  const ready = await down.inject({ url: '/readyz' });
  t.equal(ready.statusCode, 503);
  t.match(ready.headers['retry-after'], /^\d+$/, 'Retry-After in seconds');
  t.ok(Number(ready.headers['retry-after']) > 0);
  t.same(json(ready), { status: 'unavailable', database: 'down', migrations: 'unknown', replicas: [] });
  t.equal(ready.headers['cache-control'], 'no-store');

  const alive = await down.inject({ url: '/healthz' });
  t.equal(alive.statusCode, 200, 'liveness does not depend on the database');

  // Any route that needs the database answers 503 problem+json, not 500.
  const list = await down.inject({ url: '/v1/tags' });
  t.equal(list.statusCode, 503, 'GET /v1/tags is 503');
  t.equal(list.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.equal(json(list).code, 'SERVICE_UNAVAILABLE', 'code SERVICE_UNAVAILABLE');
  t.match(list.headers['retry-after'], /^\d+$/, 'with Retry-After');

  // The document must describe the 503 /readyz actually sends.
  const document = json<{ paths: Record<string, { get: { responses: Record<string, { content?: Record<string, unknown> }> } }> }>(
    await down.inject({ url: '/openapi.json' }),
  );
  const documented = Object.keys(document.paths['/readyz']?.get.responses['503']?.content ?? {});
  const served = String(ready.headers['content-type']).split(';')[0] ?? '';
  t.ok(documented.includes(served), `the /readyz 503 media type (${served}) is the documented one (${documented.join(', ')})`);

  // Closing the app closes the database again: that must be harmless.
  await t.resolves(down.close(), 'closing the app after its database closed');
});

t.test('an unreachable PostgreSQL server is 503 with Retry-After, not 500', async (t) => {
  // Nothing listens on port 1: every connection attempt is refused.
  const unreachable = await openPostgres({ connectionString: 'postgres://lede@127.0.0.1:1/lede', poolMax: 1 });
  const outage = await buildApp(config, { database: unreachable, logger: pino({ level: 'silent' }) });
  t.teardown(() => outage.close());
  await outage.ready();

  const ready = await outage.inject({ url: '/readyz' });
  t.equal(ready.statusCode, 503);
  t.match(ready.headers['retry-after'], /^\d+$/);
  t.same(json(ready), { status: 'unavailable', database: 'down', migrations: 'unknown', replicas: [] });

  const editor = { authorization: `Bearer lede_aaaaaaaaaaaa_${'A'.repeat(43)}` };
  for (const request of [{ url: '/v1/tags' }, { url: '/v1/tags', headers: editor }]) {
    const response = await outage.inject(request);
    t.equal(response.statusCode, 503, `${request.headers ? 'keyed' : 'anonymous'} read`);
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.equal(json(response).code, 'SERVICE_UNAVAILABLE');
    t.match(response.headers['retry-after'], /^\d+$/);
    t.notMatch(response.body, /ECONNREFUSED|127\.0\.0\.1|connect/i, 'no driver text');
  }
  t.equal((await outage.inject({ url: '/healthz' })).statusCode, 200);
});
