import t, { type Test } from 'tap';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { configFrom } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import { addressBucket } from '../../src/http/rate-limit.js';
import { countHit, databaseRateLimitStore, deleteExpiredWindows } from '../../src/http/rate-limit-store.js';
import { buildTestApp, json } from '../helper.js';

// A small limit, and a day-long window so no test straddles a window boundary. Each test uses its
// own client addresses or keys, so buckets never carry over between tests.
const LIMIT = 3;
const LIMITS_ENV = { RATE_LIMIT_MAX: String(LIMIT), RATE_LIMIT_WINDOW: '24h' };
const WINDOW_SECONDS = 24 * 3600;
const ALLOWED_ORIGIN = 'https://news.example';
const { app, database, authAs } = await buildTestApp(t, {
  env: { ...LIMITS_ENV, CORS_ORIGINS: `${ALLOWED_ORIGIN}, http://localhost:5173` },
});

/** Another app (another process, in production) on the same database; closing it leaves the database open. */
async function siblingApp(env: Record<string, string>): Promise<FastifyInstance> {
  const shared: DatabaseHandle = { ...database, close: async () => {} };
  const sibling = await buildApp(configFrom({ LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', ...env }), {
    database: shared,
    logger: pino({ level: 'silent' }),
  });
  t.teardown(() => sibling.close());
  await sibling.ready();
  return sibling;
}

const get = (target: FastifyInstance, remoteAddress: string, headers: Record<string, string> = {}) =>
  target.inject({ url: '/v1/tags', remoteAddress, headers });

async function exhaust(t: Test, send: () => Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
  for (let i = 1; i <= LIMIT; i += 1) {
    const allowed = await send();
    t.equal(allowed.statusCode, 200, `request ${i} of ${LIMIT} is allowed`);
    t.equal(allowed.headers['ratelimit-remaining'], String(LIMIT - i));
  }
  return send();
}

function assertRateLimited(t: Test, response: LightMyRequestResponse): void {
  t.equal(response.statusCode, 429);
  t.match(response.headers['content-type'], /^application\/problem\+json/);
  const problem = json(response);
  t.equal(problem.code, 'RATE_LIMITED');
  t.equal(problem.status, 429);
  t.equal(problem.type, 'urn:lede:problem:rate-limited');
  t.equal(problem.requestId, response.headers['x-request-id'], 'the same problem shape, with the request id');
  const retryAfter = Number(response.headers['retry-after']);
  t.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= WINDOW_SECONDS, `Retry-After ${retryAfter}`);
  t.equal(response.headers['ratelimit-limit'], String(LIMIT));
  t.equal(response.headers['ratelimit-remaining'], '0');
  t.equal(response.headers['ratelimit-reset'], String(retryAfter));
}

t.test('an anonymous client gets 429 problem+json with Retry-After once over the limit', async (t) => {
  const first = await get(app, '203.0.113.1');
  t.equal(first.headers['ratelimit-limit'], String(LIMIT), 'every counted answer carries the RateLimit headers');
  t.ok(Number(first.headers['ratelimit-reset']) > 0);
  t.equal(first.headers['ratelimit-remaining'], String(LIMIT - 1));
  await get(app, '203.0.113.1');
  await get(app, '203.0.113.1');
  assertRateLimited(t, await get(app, '203.0.113.1'));
  // One budget per client, not per route.
  assertRateLimited(t, await app.inject({ url: '/v1/timeline', remoteAddress: '203.0.113.1' }));
});

t.test('anonymous clients count per address (IPv6 per /64)', async (t) => {
  assertRateLimited(t, await exhaust(t, () => get(app, '203.0.113.2')));
  t.equal((await get(app, '203.0.113.3')).statusCode, 200, 'another address has its own bucket');

  assertRateLimited(t, await exhaust(t, () => get(app, '2001:db8:aa:1::1')));
  t.equal((await get(app, '2001:db8:aa:1:ffff::2')).statusCode, 429, 'the same /64 is the same client');
  t.equal((await get(app, '2001:db8:aa:2::1')).statusCode, 200, 'another /64 has its own bucket');
});

t.test('addressBucket', async (t) => {
  t.equal(addressBucket('198.51.100.7'), '198.51.100.7');
  t.equal(addressBucket('::ffff:198.51.100.7'), '198.51.100.7', 'IPv4-mapped IPv6 is the IPv4 address');
  t.equal(addressBucket('2001:db8::1'), '2001:db8:0:0::/64');
  t.equal(addressBucket('2001:DB8:0:0:1:2:3:4'), '2001:db8:0:0::/64');
  t.equal(addressBucket('2001:db8:1:2:3::'), '2001:db8:1:2::/64');
  t.equal(addressBucket('::1'), '0:0:0:0::/64');
  t.equal(addressBucket('fe80::1%eth0'), 'fe80:0:0:0::/64');
  t.equal(addressBucket('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
});

t.test('a caller with a key counts per key, wherever it calls from', async (t) => {
  const editor = await authAs('editor', 'limits editor');
  const reader = await authAs('reader', 'limits reader');
  const address = '203.0.113.10';

  assertRateLimited(t, await exhaust(t, () => get(app, address, { authorization: editor.authorization })));
  assertRateLimited(t, await get(app, '198.51.100.99', { authorization: editor.authorization }));

  t.equal((await get(app, address, { authorization: reader.authorization })).statusCode, 200, 'another key from the same address');
  t.equal((await get(app, address)).statusCode, 200, 'anonymous requests from that address count apart from the key');
});

t.test('the limit holds across two app instances sharing one database', async (t) => {
  const second = await siblingApp(LIMITS_ENV);
  const address = '203.0.113.20';
  t.equal((await get(app, address)).statusCode, 200);
  t.equal((await get(second, address)).statusCode, 200);
  const third = await get(app, address);
  t.equal(third.statusCode, 200);
  t.equal(third.headers['ratelimit-remaining'], '0', 'the first app saw the second app’s request');
  assertRateLimited(t, await get(second, address));
  assertRateLimited(t, await get(app, address));
});

t.test('far from the limit, hits are counted in memory and reach the database in batches', async (t) => {
  const max = 1_000;
  const shared: DatabaseHandle = { ...database, close: async () => {} };
  const batched = await buildApp(configFrom({ LOG_LEVEL: 'silent', DEMO_CONTENT: 'false', RATE_LIMIT_MAX: String(max), RATE_LIMIT_WINDOW: '24h' }), {
    database: shared,
    logger: pino({ level: 'silent' }),
  });
  await batched.ready();
  const address = '203.0.113.80';
  const hitsInDatabase = async () =>
    Number(
      ((await database.db.execute(sql`select hits from rate_limits where bucket = ${`ip:${address}`}`)) as unknown as { rows: { hits: number }[] })
        .rows[0]?.hits ?? 0,
    );
  const requests = 40;
  for (let i = 1; i <= requests; i += 1) {
    const response = await get(batched, address);
    t.equal(response.headers['ratelimit-remaining'], String(max - i), `request ${i} is counted at once in this process`);
  }
  t.ok((await hitsInDatabase()) < requests, 'not every hit was a round trip');
  await batched.close();
  t.equal(await hitsInDatabase(), requests, 'closing the app adds the pending hits');
});

t.test('probes, metrics, the API document and the docs are never limited', async (t) => {
  const address = '203.0.113.30';
  assertRateLimited(t, await exhaust(t, () => get(app, address)));
  for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs/json', '/healthz', '/readyz', '/metrics']) {
    const response = await app.inject({ url, remoteAddress: address });
    t.equal(response.statusCode, 200, url);
    t.notOk(response.headers['ratelimit-limit'], `${url} is not counted`);
  }
});

t.test('RATE_LIMIT_MAX=0 turns rate limiting off', async (t) => {
  const unlimited = await siblingApp({ RATE_LIMIT_MAX: '0' });
  const address = '203.0.113.40';
  for (let i = 0; i < LIMIT + 2; i += 1) {
    const response = await get(unlimited, address);
    t.equal(response.statusCode, 200);
    t.notOk(response.headers['ratelimit-limit']);
  }
  t.equal((await get(app, address)).statusCode, 200, 'nothing was counted either');
});

t.test('429 is documented everywhere; RateLimit headers on counted operations only', async (t) => {
  type Responses = Record<string, { headers?: Record<string, unknown> }>;
  const document = json<{ paths: Record<string, Record<string, { responses: Responses }>> }>(
    await app.inject({ url: '/openapi.json', remoteAddress: '203.0.113.50' }),
  );
  const counted = [document.paths['/v1/tags']?.get, document.paths['/v1/timeline']?.post];
  const uncounted = [document.paths['/healthz']?.get, document.paths['/metrics']?.get];
  // A failed key is limited per address on every route, the probes included.
  for (const operation of [...counted, ...uncounted]) t.ok(operation?.responses['429'], 'documents 429');
  const success = (operation: { responses: Responses } | undefined) => operation?.responses['200'] ?? operation?.responses['201'];
  for (const operation of counted) t.ok(success(operation)?.headers?.['RateLimit-Limit'], 'counted: RateLimit-Limit');
  for (const operation of uncounted) t.notOk(success(operation)?.headers?.['RateLimit-Limit'], 'never counted: no RateLimit-Limit');
});

t.test('the store: fixed windows by the database clock, and cleanup of ended windows', async (t) => {
  const windowMs = 1_000;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const bucketExists = async (bucket: string) =>
    ((await database.db.execute(sql`select 1 from rate_limits where bucket = ${bucket}`)) as unknown as { rows: unknown[] }).rows
      .length === 1;

  let first = await countHit(database.db, 'test:a', windowMs);
  if (first.ttlMs < windowMs / 2) {
    await sleep(first.ttlMs + 20); // start at the beginning of a window, so the next calls share it
    first = await countHit(database.db, 'test:a', windowMs);
  }
  t.equal(first.hits, 1);
  t.ok(first.ttlMs > 0 && first.ttlMs <= windowMs, `ttl ${first.ttlMs} ms`);
  const second = await countHit(database.db, 'test:a', windowMs);
  t.equal(second.hits, 2, 'counts up within a window');
  t.ok(second.ttlMs <= first.ttlMs, 'towards the same end');
  t.equal((await countHit(database.db, 'test:b', windowMs)).hits, 1, 'another bucket counts apart');

  await sleep(second.ttlMs + 50);
  t.equal((await countHit(database.db, 'test:a', windowMs)).hits, 1, 'a new window starts again at 1');
  const deleted = await deleteExpiredWindows(database.db);
  t.ok(deleted >= 1, `deleted ${deleted} ended windows`);
  t.notOk(await bucketExists('test:b'), 'the ended window is gone');
  t.ok(await bucketExists('test:a'), 'the current window stays');
});

t.test('CORS: a configured origin may call, with the headers a client needs', async (t) => {
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/v1/articles/0b9f3f8e-3c1b-4f6e-9a51-2f0c6d1e7a42',
    remoteAddress: '203.0.113.60',
    headers: {
      origin: ALLOWED_ORIGIN,
      'access-control-request-method': 'PATCH',
      'access-control-request-headers': 'authorization, content-type, if-match',
    },
  });
  t.equal(preflight.statusCode, 204);
  t.equal(preflight.headers['access-control-allow-origin'], ALLOWED_ORIGIN);
  t.match(preflight.headers['access-control-allow-methods'], /\bPATCH\b/);
  for (const header of ['Authorization', 'Content-Type', 'If-Match', 'If-None-Match']) {
    t.match(preflight.headers['access-control-allow-headers'], new RegExp(`\\b${header}\\b`), header);
  }
  t.notOk(preflight.headers['access-control-allow-credentials'], 'keys travel in headers, not cookies');
  t.notOk(preflight.headers['ratelimit-limit'], 'preflights are not counted');

  const read = await app.inject({ url: '/v1/tags', remoteAddress: '203.0.113.60', headers: { origin: 'http://localhost:5173' } });
  t.equal(read.statusCode, 200);
  t.equal(read.headers['access-control-allow-origin'], 'http://localhost:5173');
  const exposed = String(read.headers['access-control-expose-headers']).split(/,\s*/);
  for (const header of ['ETag', 'Location', 'Retry-After', 'X-Request-Id', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']) {
    t.ok(exposed.includes(header), `exposes ${header}`);
  }
  t.same(String(read.headers.vary).split(/,\s*/).sort(), ['Authorization', 'Origin'], 'a cache keeps answers per origin and per key');
});

t.test('CORS: any other origin gets no Access-Control-Allow-Origin', async (t) => {
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/v1/tags',
    remoteAddress: '203.0.113.61',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
  });
  t.notOk(preflight.headers['access-control-allow-origin']);
  const read = await app.inject({ url: '/v1/tags', remoteAddress: '203.0.113.61', headers: { origin: 'https://evil.example' } });
  t.equal(read.statusCode, 200, 'the server answers; the browser withholds it from the script');
  t.notOk(read.headers['access-control-allow-origin']);
});

t.test('CORS is off by default; HSTS is sent when the public URL is https; the docs page still loads', async (t) => {
  const plain = await siblingApp({ ...LIMITS_ENV, PUBLIC_BASE_URL: 'https://api.news.example' });
  const preflight = await plain.inject({
    method: 'OPTIONS',
    url: '/v1/tags',
    remoteAddress: '203.0.113.70',
    headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST' },
  });
  t.not(preflight.statusCode, 204);
  t.notOk(preflight.headers['access-control-allow-origin']);
  const read = await plain.inject({ url: '/v1/tags', remoteAddress: '203.0.113.70', headers: { origin: ALLOWED_ORIGIN } });
  t.notOk(read.headers['access-control-allow-origin']);

  t.equal(read.headers['strict-transport-security'], 'max-age=31536000');
  t.notOk((await get(app, '203.0.113.71')).headers['strict-transport-security'], 'not over an http base URL');

  const docs = await plain.inject({ url: '/docs/', remoteAddress: '203.0.113.70' });
  t.equal(docs.statusCode, 200);
  t.match(docs.headers['content-type'], /^text\/html/);
  t.notMatch(String(docs.headers['content-security-policy']), /default-src 'none'/, 'the docs page keeps its own content policy');
});

t.test('server timeouts come from the configuration', async (t) => {
  const timed = await siblingApp({
    REQUEST_TIMEOUT_MS: '20000',
    HEADERS_TIMEOUT_MS: '5000',
    KEEP_ALIVE_TIMEOUT_MS: '65000',
    CONNECTION_TIMEOUT_MS: '90000',
  });
  t.equal(timed.server.requestTimeout, 20_000);
  t.equal(timed.server.headersTimeout, 5_000);
  t.equal(timed.server.keepAliveTimeout, 65_000);
  t.equal(timed.server.timeout, 90_000);
  t.equal(app.server.requestTimeout, 30_000, 'defaults');
  t.equal(app.server.headersTimeout, 10_000);
  t.equal(app.server.keepAliveTimeout, 72_000);
  t.equal(app.server.timeout, 60_000);
});

t.test('the store keeps a bounded number of buckets in memory; past the bound every hit is a round trip', async (t) => {
  const bound = 10;
  const store = databaseRateLimitStore(database.db, { windowMs: WINDOW_SECONDS * 1000, max: 1_000, log: pino({ level: 'silent' }), maxBuckets: bound });
  const buckets = Array.from({ length: 10 * bound }, (_, i) => `test-bound:${i}`);
  for (let round = 1; round <= 3; round += 1) {
    for (const bucket of buckets) {
      const hit = await store.hit(bucket);
      if (hit.hits !== round) t.fail(`${bucket}: hit ${round} counted as ${hit.hits}`);
    }
  }
  t.ok(store.trackedBuckets <= bound, `${store.trackedBuckets} buckets kept in memory for ${buckets.length} clients`);
  t.same(store.peek(buckets.at(-1)!), null, 'an untracked bucket is not known locally');
  t.equal(store.peek(buckets[0]!)?.hits, 3, 'a tracked one is');
  await store.close();
  const rows = (await database.db.execute(sql`select hits from rate_limits where bucket like 'test-bound:%'`)) as unknown as { rows: { hits: number }[] };
  t.equal(rows.rows.length, buckets.length);
  t.ok(rows.rows.every((row) => Number(row.hits) === 3), 'every hit reached the database');
});
