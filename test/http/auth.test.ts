import t, { type Test } from 'tap';
import { sql } from 'drizzle-orm';
import Fastify, { type LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import type { DatabaseHandle } from '../../src/db/database.js';
import type { AuthenticatedKey } from '../../src/http/access.js';
import { authPlugin } from '../../src/http/auth.js';
import { errorHandlerPlugin } from '../../src/http/error-handler.js';
import { generateKeySecret } from '../../src/modules/keys/key-secret.js';
import { keysService, newKeyChangeKey } from '../../src/modules/keys/keys.service.js';
import { buildTestApp, json } from '../helper.js';

// One database for the file; each test makes its own keys.
const { app, authAs } = await buildTestApp(t);

const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
/** Well-formed (`lede_<12>_<43>`) but never issued. */
const UNKNOWN_KEY = `lede_aaaaaaaaaaaa_${'A'.repeat(43)}`;

t.test('a protected route without a key is 401 AUTH_REQUIRED with WWW-Authenticate', async (t) => {
  for (const request of [
    { method: 'POST' as const, url: '/v1/tags', payload: { name: 'Anonymous' } },
    { method: 'GET' as const, url: '/v1/keys' },
    { method: 'DELETE' as const, url: '/v1/keys/0b9f3f8e-3c1b-4f6e-9a51-2f0c6d1e7a42' },
  ]) {
    const response = await app.inject(request);
    t.equal(response.statusCode, 401, `${request.method} ${request.url}`);
    t.equal(response.headers['content-type'], PROBLEM_CONTENT_TYPE);
    t.equal(json(response).code, 'AUTH_REQUIRED');
    t.equal(json(response).status, 401);
    t.match(response.headers['www-authenticate'], /^Bearer\b/);
  }
});

t.test('auth is checked before the body is read', async (t) => {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/tags',
    headers: { 'content-type': 'application/json' },
    payload: '{"not json',
  });
  t.equal(response.statusCode, 401, 'no key beats malformed JSON');
  t.equal(json(response).code, 'AUTH_REQUIRED');
});

t.test('a malformed Authorization header is 401 INVALID_API_KEY', async (t) => {
  const admin = await authAs('admin', 'malformed-header admin');
  for (const authorization of [
    'Basic dXNlcjpwYXNz',
    'Bearer',
    'Bearer ',
    'Token abc',
    `${admin.authorization} extra`,
    admin.key, // the key without the scheme
  ]) {
    const response = await app.inject({ url: '/v1/keys', headers: { authorization } });
    t.equal(response.statusCode, 401, JSON.stringify(authorization.slice(0, 30)));
    t.equal(json(response).code, 'INVALID_API_KEY');
    t.match(response.headers['www-authenticate'], /^Bearer\b/);
  }
  const lowerCase = await app.inject({ url: '/v1/keys', headers: { authorization: `bearer ${admin.key}` } });
  t.equal(lowerCase.statusCode, 200, 'the scheme name is case-insensitive');
});

t.test('an unknown key is 401 INVALID_API_KEY', async (t) => {
  for (const key of [UNKNOWN_KEY, 'nope', 'lede_short_secret']) {
    const response = await app.inject({ url: '/v1/keys', headers: { authorization: `Bearer ${key}` } });
    t.equal(response.statusCode, 401, key);
    t.equal(json(response).code, 'INVALID_API_KEY');
    t.match(response.headers['www-authenticate'], /^Bearer\b/);
  }
  // A real prefix with the wrong secret must not pass.
  const admin = await authAs('admin', 'forged-secret admin');
  const lastChar = admin.key.at(-1) === 'A' ? 'B' : 'A';
  const forged = `${admin.key.slice(0, -1)}${lastChar}`;
  const response = await app.inject({ url: '/v1/keys', headers: { authorization: `Bearer ${forged}` } });
  t.equal(response.statusCode, 401);
  t.equal(json(response).code, 'INVALID_API_KEY');
});

t.test('a revoked key is 401 INVALID_API_KEY', async (t) => {
  const admin = await authAs('admin', 'revoking admin');
  const editor = await authAs('editor', 'soon revoked');
  const before = await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'Before revoke', locale: 'hr' } });
  t.equal(before.statusCode, 201, 'the key works before it is revoked');
  const revoked = await app.inject({ method: 'DELETE', url: `/v1/keys/${editor.id}`, headers: admin });
  t.equal(revoked.statusCode, 204);
  const after = await app.inject({ method: 'POST', url: '/v1/tags', headers: editor, payload: { name: 'After revoke', locale: 'hr' } });
  t.equal(after.statusCode, 401);
  t.equal(json(after).code, 'INVALID_API_KEY');
  t.match(after.headers['www-authenticate'], /^Bearer\b/);
  const read = await app.inject({ url: '/v1/tags?locale=hr', headers: editor });
  t.equal(read.statusCode, 401, 'a revoked key is refused on public routes too');
  const names = json<{ data: { name: string }[] }>(await app.inject({ url: '/v1/tags?locale=hr' })).data.map((tag) => tag.name);
  t.same(names, ['Before revoke'], 'nothing was written with the revoked key');
});

t.test('a key whose role is too low is 403 FORBIDDEN', async (t) => {
  const reader = await authAs('reader');
  const editor = await authAs('editor');
  const admin = await authAs('admin');

  const readerWrites = await app.inject({ method: 'POST', url: '/v1/tags', headers: reader, payload: { name: 'By reader', locale: 'is' } });
  t.equal(readerWrites.statusCode, 403);
  t.equal(readerWrites.headers['content-type'], PROBLEM_CONTENT_TYPE);
  t.equal(json(readerWrites).code, 'FORBIDDEN');
  t.equal(json(readerWrites).status, 403);

  for (const [name, headers] of [['reader', reader], ['editor', editor]] as const) {
    const keys = await app.inject({ url: '/v1/keys', headers });
    t.equal(keys.statusCode, 403, `${name} may not list keys`);
    t.equal(json(keys).code, 'FORBIDDEN');
  }

  // A higher role includes the lower ones.
  const adminWrites = await app.inject({ method: 'POST', url: '/v1/tags', headers: admin, payload: { name: 'By admin', locale: 'is' } });
  t.equal(adminWrites.statusCode, 201);
  const readerReads = await app.inject({ url: '/v1/tags?locale=is', headers: reader });
  t.equal(readerReads.statusCode, 200);
  t.same(json<{ data: { name: string }[] }>(readerReads).data.map((tag) => tag.name), ['By admin'], 'the reader’s write did not happen');
});

t.test('an invalid key on a public route is 401, not silently anonymous', async (t) => {
  const anonymous = await app.inject({ url: '/v1/tags' });
  t.equal(anonymous.statusCode, 200, 'no key is fine on a public route');
  for (const url of ['/v1/tags', '/healthz']) {
    const response = await app.inject({ url, headers: { authorization: `Bearer ${UNKNOWN_KEY}` } });
    t.equal(response.statusCode, 401, url);
    t.equal(json(response).code, 'INVALID_API_KEY');
  }
  const malformed = await app.inject({ url: '/v1/tags', headers: { authorization: 'Basic abc' } });
  t.equal(malformed.statusCode, 401);
  t.equal(json(malformed).code, 'INVALID_API_KEY');
});

t.test('every route must declare config.access or the app refuses to start', async (t) => {
  const editorKey: AuthenticatedKey = { id: 'k1', name: 'dummy', role: 'editor' };
  const resolveKey = async (presented: string) => (presented === 'good' ? editorKey : null);

  const bare = Fastify({ logger: false });
  t.teardown(() => bare.close());
  await bare.register(errorHandlerPlugin);
  await bare.register(authPlugin, { resolveKey });
  bare.get('/declared', { config: { access: 'public' } }, async () => ({ ok: true }));
  bare.get('/forgotten', async () => ({ secret: true }));
  await t.rejects(async () => {
    await bare.ready();
  }, /config\.access[\s\S]*GET \/forgotten/, 'boot fails, naming the route');

  const typo = Fastify({ logger: false });
  t.teardown(() => typo.close());
  await typo.register(authPlugin, { resolveKey });
  // A value outside the known levels is as bad as none.
  typo.get('/typo', { config: { access: 'everyone' as never } }, async () => ({}));
  await t.rejects(async () => {
    await typo.ready();
  }, /GET \/typo/, 'an unknown access level fails the boot too');

  const good = Fastify({ logger: false });
  t.teardown(() => good.close());
  await good.register(errorHandlerPlugin);
  await good.register(authPlugin, { resolveKey });
  good.get('/open', { config: { access: 'public' } }, async () => ({ ok: true }));
  good.post('/write', { config: { access: 'editor' } }, async (request) => ({ by: request.apiKey?.name }));
  good.delete('/admin', { config: { access: 'admin' } }, async () => ({}));
  await t.resolves(async () => {
    await good.ready();
  }, 'boots when every route declares access');

  t.equal((await good.inject({ url: '/open' })).statusCode, 200);
  const anonymous = await good.inject({ method: 'POST', url: '/write' });
  t.equal(anonymous.statusCode, 401);
  t.equal(json(anonymous).code, 'AUTH_REQUIRED');
  const written = await good.inject({ method: 'POST', url: '/write', headers: { authorization: 'Bearer good' } });
  t.equal(written.statusCode, 200);
  t.same(json(written), { by: 'dummy' }, 'the handler sees the resolved key');
  const tooLow = await good.inject({ method: 'DELETE', url: '/admin', headers: { authorization: 'Bearer good' } });
  t.equal(tooLow.statusCode, 403);
  t.equal(json(tooLow).code, 'FORBIDDEN');
  const wrong = await good.inject({ url: '/open', headers: { authorization: 'Bearer bad' } });
  t.equal(wrong.statusCode, 401);
  t.equal(json(wrong).code, 'INVALID_API_KEY');
});

/* ------------------------------------------------------------------------------------------ */
/* Failed authentications, and what they cost.                                                  */

/** An app of its own (a fresh database) that counts its key lookups. */
async function countingApp(t: Test, env: Record<string, string>) {
  let lookups = 0;
  const built = await buildTestApp(t, {
    env,
    onQuery: (text) => {
      if (/from "api_keys"/.test(text)) lookups += 1;
    },
  });
  return { ...built, lookups: () => lookups };
}

/** A well-formed key that was never issued: a random prefix each time. */
const neverIssued = () => generateKeySecret().key;

const FAILURE_LIMIT = 5;
const DAY_SECONDS = 24 * 3600;

function assertTooManyFailures(t: Test, response: LightMyRequestResponse): void {
  t.equal(response.statusCode, 429);
  t.equal(response.headers['content-type'], PROBLEM_CONTENT_TYPE);
  t.equal(json(response).code, 'RATE_LIMITED');
  const retryAfter = Number(response.headers['retry-after']);
  t.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= DAY_SECONDS, `Retry-After ${retryAfter}`);
}

t.test('failed authentications are limited per address: 429 with Retry-After, before any key lookup', async (t) => {
  // A day-long window, so the test never straddles a window boundary.
  const limited = await countingApp(t, { AUTH_FAILURE_LIMIT: String(FAILURE_LIMIT), AUTH_FAILURE_WINDOW: '24h' });
  const address = '198.51.100.20';
  const tries = 200;
  const answers: LightMyRequestResponse[] = [];
  for (let i = 0; i < tries; i += 1) {
    answers.push(await limited.app.inject({ url: '/v1/tags', remoteAddress: address, headers: { authorization: `Bearer ${neverIssued()}` } }));
  }
  t.same(answers.slice(0, FAILURE_LIMIT).map((answer) => [answer.statusCode, json(answer).code]), Array(FAILURE_LIMIT).fill([401, 'INVALID_API_KEY']), 'up to the limit: 401');
  const refused = answers.slice(FAILURE_LIMIT);
  t.equal(refused.filter((answer) => answer.statusCode === 429).length, refused.length, 'past it: every answer is 429');
  assertTooManyFailures(t, refused.at(-1)!);
  t.equal(limited.lookups(), FAILURE_LIMIT, `${tries} random keys cost ${FAILURE_LIMIT} lookups`);

  const malformed = await limited.app.inject({ url: '/v1/tags', remoteAddress: address, headers: { authorization: 'Basic abc' } });
  assertTooManyFailures(t, malformed);
  const valid = await limited.authAs('reader', 'behind a noisy address');
  assertTooManyFailures(t, await limited.app.inject({ url: '/v1/tags', remoteAddress: address, headers: { authorization: valid.authorization } }));
  // A key this process already resolved (an editor behind the same address, who used it before
  // the guessing began) costs no lookup and still works: the limit stops guessing, not editors.
  const known = await limited.authAs('editor', 'used before the guessing');
  // Used until kept: on PostgreSQL the key's creation is announced by NOTIFY, and a lookup that
  // an announcement overtakes is not kept.
  for (let tries = 0; tries < 50; tries += 1) {
    const before = limited.lookups();
    t.equal((await limited.app.inject({ url: '/v1/tags', remoteAddress: '198.51.100.99', headers: { authorization: known.authorization } })).statusCode, 200);
    if (limited.lookups() === before) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const lookupsBefore = limited.lookups();
  t.equal((await limited.app.inject({ url: '/v1/tags', remoteAddress: address, headers: { authorization: known.authorization } })).statusCode, 200, 'a kept key is served');
  t.equal(limited.lookups(), lookupsBefore, 'without a lookup');
  t.equal((await limited.app.inject({ url: '/v1/tags', remoteAddress: address })).statusCode, 200, 'reading without a key is not refused');
  t.equal(
    (await limited.app.inject({ url: '/v1/tags', remoteAddress: '198.51.100.21', headers: { authorization: valid.authorization } })).statusCode,
    200,
    'the key works from another address',
  );
  const other = await limited.app.inject({ url: '/v1/tags', remoteAddress: '198.51.100.21', headers: { authorization: `Bearer ${neverIssued()}` } });
  t.equal(other.statusCode, 401, 'another address has its own count');

  // IPv6 counts per /64, as the rate limit does.
  for (let i = 0; i < FAILURE_LIMIT; i += 1) {
    await limited.app.inject({ url: '/v1/tags', remoteAddress: `2001:db8:77:1::${i + 1}`, headers: { authorization: `Bearer ${neverIssued()}` } });
  }
  assertTooManyFailures(
    t,
    await limited.app.inject({ url: '/v1/tags', remoteAddress: '2001:db8:77:1:ffff::9', headers: { authorization: `Bearer ${neverIssued()}` } }),
  );

  // Another process on the same database knows the count too.
  const shared: DatabaseHandle = { ...limited.database, close: async () => {} };
  const sibling = await buildApp(limited.config, { database: shared, logger: pino({ level: 'silent' }) });
  t.teardown(() => sibling.close());
  assertTooManyFailures(t, await sibling.inject({ url: '/v1/tags', remoteAddress: address, headers: { authorization: `Bearer ${neverIssued()}` } }));
});

t.test('AUTH_FAILURE_LIMIT=0 turns the failure limit off', async (t) => {
  const unlimited = await countingApp(t, { AUTH_FAILURE_LIMIT: '0' });
  for (let i = 0; i < 30; i += 1) {
    const response = await unlimited.app.inject({ url: '/v1/tags', remoteAddress: '198.51.100.30', headers: { authorization: `Bearer ${neverIssued()}` } });
    if (response.statusCode !== 401) t.fail(`failure ${i + 1} answered ${response.statusCode}`);
  }
  t.pass('30 failures, all 401');
});

t.test('unknown key prefixes are remembered briefly, in bounded number', async (t) => {
  const remembering = await countingApp(t, { AUTH_FAILURE_LIMIT: '0', KEY_CACHE_TTL: '1s' });
  const { app: target, database } = remembering;
  const unknown = neverIssued();
  for (let i = 0; i < 10; i += 1) {
    const response = await target.inject({ url: '/v1/tags', headers: { authorization: `Bearer ${unknown}` } });
    t.equal(response.statusCode, 401);
  }
  t.equal(remembering.lookups(), 1, 'a repeated unknown key costs one lookup');

  // Many distinct prefixes: only the most recent `bound` are remembered.
  const bound = 50;
  const keys = keysService(database.db, target.contentChanges, { feed: target.changeFeed, ttlMs: 60_000, unknownPrefixesMax: bound });
  const distinct = Array.from({ length: 4 * bound }, neverIssued);
  for (const key of distinct) t.equal(await keys.resolve(key), null);
  const before = remembering.lookups();
  for (const key of distinct.slice(-bound)) await keys.resolve(key);
  t.equal(remembering.lookups(), before, 'the latest are remembered');
  await keys.resolve(distinct[0]!);
  t.equal(remembering.lookups(), before + 1, 'the oldest were forgotten to stay within the bound');
});

t.test('a new key works at once, even where its prefix was remembered as unknown', async (t) => {
  const remembering = await countingApp(t, { AUTH_FAILURE_LIMIT: '0', KEY_CACHE_TTL: '1s' });
  const { app: target, database } = remembering;
  const admin = await remembering.authAs('admin', 'announcing admin');
  const announced: string[] = [];
  target.changeFeed.subscribe({ changed: (keys) => announced.push(...keys), reset: () => {} });
  const created = await target.inject({ method: 'POST', url: '/v1/keys', headers: admin, payload: { name: 'announced', role: 'reader' } });
  t.equal(created.statusCode, 201);
  const prefix = String(json(created).prefix).replace(/^lede_/, '');
  t.ok(announced.includes(newKeyChangeKey(prefix)), 'creating a key announces its prefix to every process');

  // A key that someone presented before it existed (only possible by picking the prefix).
  const insertIssued = async () => {
    const { key, prefix: picked, secretHash } = generateKeySecret();
    const read = () => target.inject({ url: '/v1/tags', headers: { authorization: `Bearer ${key}` } });
    t.equal((await read()).statusCode, 401, 'unknown, and now remembered');
    await database.db.execute(sql`insert into api_keys (name, role, prefix, secret_hash) values ('picked', 'reader', ${picked}, ${secretHash})`);
    t.equal((await read()).statusCode, 401, 'inserted without an announcement: still remembered as unknown');
    return { picked, read };
  };
  const announcedKey = await insertIssued();
  await target.contentChanges.write(async (_tx, changed) => changed(newKeyChangeKey(announcedKey.picked)));
  t.equal((await announcedKey.read()).statusCode, 200, 'the announcement makes every process forget it at once');

  const silentKey = await insertIssued();
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  t.equal((await silentKey.read()).statusCode, 200, 'without one, it is forgotten within the key lifetime');
});
